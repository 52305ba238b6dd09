"""Internal names proposed from labels keep the letters of every language."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from propsync.domain.text import name_from_ascii
from propsync.services.names import propose_name

NAME = re.compile(r"^[a-z][a-z0-9_]{0,99}$")


def test_danish_letters_are_transliterated_not_dropped() -> None:
    assert propose_name("Ærlig Øl & Å") == "aerlig_ol_a"
    assert propose_name("Blåbærgrød") == "blabaergrod"


def test_other_scripts_and_accents_keep_their_letters() -> None:
    assert propose_name("Straße") == "strasse"
    assert propose_name("Crème brûlée") == "creme_brulee"
    assert propose_name("Москва") == "moskva"
    assert propose_name("Company name (sync)") == "company_name_sync"


def test_a_leading_digit_gets_a_prefix_and_nothing_usable_gives_empty() -> None:
    assert propose_name("2024 budget") == "p_2024_budget"
    assert propose_name("!!!") == ""
    assert name_from_ascii("__a__b__") == "a_b"


@given(st.text(max_size=300))
def test_any_label_gives_a_valid_name_or_nothing(label: str) -> None:
    name = propose_name(label)
    assert name == "" or NAME.match(name), name
    assert not name.endswith("_")
