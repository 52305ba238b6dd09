"""Searches through the value indexes answer what a scan of the values answers, on both
stores: every filter (and the free-text ``query``) against the same records filtered in
Python by the rules of storage/search.py, for any values, also the awkward ones (longer
than the indexed prefix, the same prefix, non-ASCII letters Python lowers in its own way,
LIKE's wildcards, several words); and the statements read the indexes."""

from __future__ import annotations

import re
from typing import Any

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings
from sqlalchemy import Engine, event

from propsync.domain.filters import Filter, token_pattern
from propsync.services.properties import PropertyInput, create_property
from propsync.services.search import SearchRequest, search
from propsync.storage.tables import VALUE_TRIGRAMS
from tests.integration.world import PRIMARY, World, explain, grow

LONG = "abc " * 30  # longer than the 100 indexed characters
TEXTS = ["abc", "ABC def", "xabc", "abc-def", "def abc", "ab", "Øst fold", "øst", "İk",
         "\u212aelvin", "a b c", LONG + "x", LONG + "y", "50%", "a_b", "red otter ref12",
         "ref12 ref123", "ref1234", "Tromsø", "tromsø as", "x" * 300]
NUMBERS = [-3, 0, 1, 2.5, 100, 1_000_000, 2.5e-3]
WORDS = sorted({w for text in TEXTS for w in text.lower().split(" ")} | {"", "zzz", "ref1"})
TEXT_PROPS = ("note", "firstname", "company_name_sync")
OPERATORS = ("EQ", "NEQ", "IN", "NOT_IN", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN",
             "HAS_PROPERTY", "NOT_HAS_PROPERTY")
NUMBER_OPERATORS = ("EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "IN", "NOT_IN",
                    "HAS_PROPERTY", "NOT_HAS_PROPERTY")


class Corpus:
    """Contacts holding TEXTS in ``note`` and ``firstname`` (in different orders), NUMBERS
    in ``score``, and TEXTS as their Primary company's name, synced into
    ``company_name_sync``; some hold none. ``values[contact][property]`` is what each has."""

    def __init__(self, engine: Engine) -> None:
        self.world = w = World.new(engine)
        for name, kind, field in (("note", "string", "text"), ("score", "number", "number")):
            create_property(engine, w.principal, "contacts",
                            PropertyInput(name, name.title(), kind, field, "contactinformation"))
        n = len(TEXTS) + 3
        rows: list[dict[str, object]] = []
        for i in range(n):
            row: dict[str, object] = {}
            if i < len(TEXTS):
                row["note"] = TEXTS[i]
            if i % 4 != 3:
                row["firstname"] = TEXTS[(i * 7) % len(TEXTS)]
            if i % 3 != 2:
                row["score"] = str(NUMBERS[i % len(NUMBERS)])
            rows.append(row)
        self.ids = w.create_each("contacts", rows)
        self.values: dict[int, dict[str, Any]] = {}
        for rid, row in zip(self.ids, rows, strict=True):
            held: dict[str, Any] = {k: v for k, v in row.items() if k != "score"}
            if "score" in row:
                held["score"] = float(str(row["score"]))
            self.values[rid] = held
        for i, rid in enumerate(self.ids):
            if i % 5 == 4:
                continue
            name = TEXTS[(i * 3) % len(TEXTS)]
            company = w.one("companies", name=name)
            w.link("contacts", rid, "companies", company, [PRIMARY])
            self.values[rid]["company_name_sync"] = name
        w.define("contacts", "company_name_sync", "companies", "name", [PRIMARY], None)
        w.settle()

    def found(self, request: SearchRequest) -> set[int]:
        result = search(self.world.engine, self.world.principal, "contacts", request)
        assert result.total == len(result.views)
        return {int(v.id) for v in result.views}


@pytest.fixture
def corpus(engine: Engine) -> Corpus:
    return Corpus(engine)


def like(value: str, pattern: str) -> bool:
    """SQL ``LIKE`` of a lower-cased value (both stores compare the rest exactly)."""
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.DOTALL) is not None


def passes(held: dict[str, Any], f: Filter) -> bool:
    """The filter, by scan: a negation holds for a record without a value too."""
    value = held.get(f.property_name)
    if f.operator == "HAS_PROPERTY":
        return value is not None
    negated = {"NEQ": "EQ", "NOT_IN": "IN", "NOT_CONTAINS_TOKEN": "CONTAINS_TOKEN",
               "NOT_HAS_PROPERTY": "HAS_PROPERTY"}
    if f.operator in negated:
        return not passes(held, Filter(f.property_name, negated[f.operator], f.value,
                                       f.values, f.high_value))
    if value is None:
        return False
    if f.operator == "CONTAINS_TOKEN":
        return any(like(str(value).lower(), p) for p in token_pattern(f.value or ""))
    if isinstance(value, float):
        x = float(f.value) if f.value is not None else None
        if f.operator == "IN":
            return value in {float(v) for v in f.values}
        if f.operator == "BETWEEN":
            return x is not None and x <= value <= float(str(f.high_value))
        assert x is not None
        return {"EQ": value == x, "LT": value < x, "LTE": value <= x, "GT": value > x,
                "GTE": value >= x}[f.operator]
    lowered = str(value).lower()
    if f.operator == "IN":
        return lowered in {v.lower() for v in f.values}
    assert f.operator == "EQ"
    return lowered == str(f.value).lower()


def cased(text: str) -> st.SearchStrategy[str]:
    return st.sampled_from([text, text.upper(), text.title()])


texts = st.one_of(st.sampled_from(TEXTS).flatmap(cased),
                  st.sampled_from(WORDS).flatmap(cased),
                  st.text(alphabet="abcefø ĸİ*%_", max_size=6))
tokens = st.one_of(st.sampled_from(WORDS).flatmap(cased),
                   st.sampled_from(WORDS).map(lambda w: w[:3] + "*"),
                   st.sampled_from(WORDS).map(lambda w: "*" + w[1:]),
                   st.text(alphabet="abcefø İ*", max_size=5))
numbers = st.one_of(st.sampled_from(NUMBERS), st.floats(-10, 10, allow_nan=False))


@st.composite
def filters(draw: st.DrawFn) -> Filter:
    if draw(st.booleans()):
        name, op = "score", draw(st.sampled_from(NUMBER_OPERATORS))
        if op in ("IN", "NOT_IN"):
            return Filter(name, op, values=tuple(str(x) for x in draw(
                st.lists(numbers, min_size=1, max_size=3))))
        if op in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
            return Filter(name, op)
        low = draw(numbers)
        return Filter(name, op, str(low),
                      high_value=str(low + draw(numbers) ** 2) if op == "BETWEEN" else None)
    name, op = draw(st.sampled_from(TEXT_PROPS)), draw(st.sampled_from(OPERATORS))
    if op in ("IN", "NOT_IN"):
        return Filter(name, op, values=tuple(draw(st.lists(texts, min_size=1, max_size=3))))
    if op in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
        return Filter(name, op)
    return Filter(name, op, draw(tokens if "TOKEN" in op else texts))


groups = st.lists(st.lists(filters(), min_size=1, max_size=2), min_size=1, max_size=2)


def test_any_search_answers_what_a_scan_answers(corpus: Corpus) -> None:
    @settings(max_examples=150, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow])
    @given(groups)
    def check(drawn: list[list[Filter]]) -> None:
        expected = {rid for rid, held in corpus.values.items()
                    if any(all(passes(held, f) for f in g) for g in drawn)}
        assert corpus.found(SearchRequest(groups=drawn, limit=100)) == expected, drawn

    check()


def test_the_free_text_query_answers_what_a_scan_answers(corpus: Corpus) -> None:
    """``query`` (with sync values, as the web UI asks) finds the records with a value of a
    searchable property (``firstname`` here) or a sync property containing the text (LIKE's
    wildcards taken out; no text: every record)."""
    @settings(max_examples=60, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow])
    @given(st.one_of(texts, st.sampled_from(TEXTS).map(lambda t: t[1:5])))
    def check(query: str) -> None:
        needle = query.lower().replace("%", "").replace("_", "")
        expected = {rid for rid, held in corpus.values.items()
                    if not query or any(like(str(held[p]).lower(), f"%{needle}%")
                                        for p in ("firstname", "company_name_sync")
                                        if p in held)}
        got = corpus.found(SearchRequest(query=query, limit=100, query_synced=True))
        assert got == expected, query

    check()




@pytest.mark.parametrize(("flt", "index"), [
    (Filter("note", "EQ", "ABC def"), "ix_property_values_text"),
    (Filter("note", "IN", values=("abc", "øst")), "ix_property_values_text"),
    (Filter("score", "BETWEEN", "0", high_value="5"), "ix_property_values_num"),
    (Filter("note", "CONTAINS_TOKEN", "otter"), VALUE_TRIGRAMS),
    (Filter("note", "CONTAINS_TOKEN", "ref12*"), VALUE_TRIGRAMS),
])
def test_an_ordinary_property_is_searched_through_its_index(corpus, flt, index):
    """The plan of the search's statement names the index (PostgreSQL is told not to prefer
    a sequential scan, which it would on tables this small, and given as many values as a
    real account has, so that it does not read the property's few values instead)."""
    engine = corpus.world.engine
    seen: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if "count(*) OVER ()" in statement:
            seen.append((statement, params))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        expected = {rid for rid, held in corpus.values.items() if passes(held, flt)}
        assert corpus.found(SearchRequest(groups=[[flt]], limit=100)) == expected
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    statement, params = seen[0]
    plan = explain(engine, statement, params, grow=grow(corpus.world.account_id))
    assert index in plan or (index == VALUE_TRIGRAMS and "VIRTUAL TABLE" in plan), plan
