"""Association use cases: validating types and records, labelled and default links."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from propsync.clock import now_ms
from propsync.domain.associations import CATEGORIES, AssociationType, default_type
from propsync.domain.auth import Principal, object_scope
from propsync.domain.errors import ErrorDetail, NotFoundError, ValidationError
from propsync.domain.objects import resolve_object_type
from propsync.domain.record_ids import parse_record_id
from propsync.storage import associations as assoc_store
from propsync.storage import records as record_store
from propsync.storage.associations import Link
from propsync.storage.db import read_transaction, write_transaction


@dataclass(frozen=True)
class TypeSpec:
    """``{associationCategory, associationTypeId}`` as a caller gives it."""

    category: str
    type_id: int


@dataclass(frozen=True)
class AssociationInput:
    """An inline association of a record being created: ``to`` and its types."""

    to_id: str
    types: Sequence[TypeSpec]


def resolve_type(
    types: dict[int, AssociationType], spec: TypeSpec, from_type: str, to_type: str | None
) -> AssociationType:
    """The association type ``spec`` names, checked against the two object types."""
    found = types.get(spec.type_id)
    if spec.category not in CATEGORIES or found is None or found.category != spec.category:
        raise _bad_type(f"There is no association type {spec.category} {spec.type_id}.")
    if found.from_type != from_type or (to_type is not None and found.to_type != to_type):
        raise _bad_type(
            f"Association type {spec.type_id} goes from {found.from_type} to {found.to_type}, "
            f"not from {from_type} to {to_type or found.to_type}. List the valid types with "
            f"GET /crm/v4/associations/{from_type}/{to_type or found.to_type}/labels."
        )
    return found


def _bad_type(message: str) -> ValidationError:
    return ValidationError(message, [ErrorDetail(message, "INVALID_ASSOCIATION_TYPE")])


def with_default(
    types: dict[int, AssociationType], chosen: Sequence[AssociationType]
) -> list[AssociationType]:
    """A labelled association always carries the unlabeled default type as well."""
    result = list(dict.fromkeys(chosen))
    for ty in chosen:
        base = default_type(ty.from_type, ty.to_type)
        if base is not None and base not in result:
            result.append(base)
    return result


def require_live(
    conn: Connection, account_id: int, object_type: str, ids: Sequence[int], role: str
) -> None:
    """Every id must be a non-archived record of ``object_type``: 404 otherwise."""
    rows = record_store.load_records(conn, account_id, object_type, ids)
    missing = [str(i) for i in ids if i not in rows or rows[i].archived]
    if missing:
        raise NotFoundError(
            f"No {object_type} record has the id {', '.join(missing)} ({role}).",
            context={"id": missing},
        )


def links_for_inputs(
    conn: Connection, principal: Principal, from_type: str, new_ids: Sequence[int],
    inputs: Sequence[Sequence[AssociationInput]],
) -> list[Link]:
    """Links for the inline ``associations`` of newly created records, all validated."""
    types = assoc_store.load_types(conn, principal.account_id)
    links: list[Link] = []
    for record_id, assocs in zip(new_ids, inputs, strict=True):
        for item in assocs:
            if not item.types:
                raise ValidationError("Each association needs at least one type in 'types'.")
            chosen = [resolve_type(types, spec, from_type, None) for spec in item.types]
            to_type = chosen[0].to_type
            if any(c.to_type != to_type for c in chosen):
                raise _bad_type("All types of one association must point to the same object type.")
            # An association is a write on both records (as in HubSpot); checked before
            # looking the record up, so that a missing id tells nothing either.
            principal.require(object_scope(to_type, write=True))
            to_id = _to_id(item.to_id)
            require_live(conn, principal.account_id, to_type, [to_id], "association target")
            links += [Link(from_type, record_id, to_type, to_id, ty)
                      for ty in with_default(types, chosen)]
    return links


def _to_id(raw: str) -> int:
    parsed = parse_record_id(raw)
    if parsed is None:
        raise NotFoundError(f"No record has the id {raw[:100]!r}.", context={"id": [raw[:100]]})
    return parsed


def _types(from_type: str, to_type: str) -> tuple[str, str]:
    return resolve_object_type(from_type).name, resolve_object_type(to_type).name


def _require(principal: Principal, from_type: str, to_type: str, write: bool) -> None:
    """Reading associations reveals records of both types; adding or removing one writes
    both records (HubSpot requires the write scope of both objects)."""
    principal.require(*dict.fromkeys((object_scope(from_type, write=write),
                                      object_scope(to_type, write=write))))


@dataclass(frozen=True)
class PairInput:
    """One pair of a batch: ``from`` and ``to`` ids as given, and the types to add/remove."""

    from_id: str
    to_id: str
    types: Sequence[TypeSpec] = ()


@dataclass
class PairsResult:
    """Pairs applied (with their labels afterwards) and the inputs that named no record."""

    applied: list[tuple[int, int, list[str]]]
    missing: list[str]


def associate(
    engine: Engine, principal: Principal, from_type: str, to_type: str,
    pairs: Sequence[PairInput], default_only: bool = False,
) -> PairsResult:
    """Add association types between pairs (the default type with ``default_only``).

    Pairs naming a record that does not exist are reported, the others applied.
    """
    ft, tt = _types(from_type, to_type)
    _require(principal, ft, tt, write=True)
    with write_transaction(engine) as conn:
        types = assoc_store.load_types(conn, principal.account_id)
        chosen = [_pair_types(types, p, ft, tt, default_only) for p in pairs]
        found, missing = _existing_pairs(conn, principal.account_id, ft, tt, pairs)
        links = [Link(ft, f, tt, t, ty) for (f, t), kinds in zip(found, chosen, strict=False)
                 if (f, t) != (0, 0) for ty in kinds]
        assoc_store.add_links(conn, principal.account_id, links, types, now_ms())
        labels = _labels_of(conn, principal.account_id, ft, tt, [p for p in found if p != (0, 0)],
                            types)
    return PairsResult([(f, t, labels.get((f, t), [])) for f, t in found if (f, t) != (0, 0)],
                       missing)


def _pair_types(
    types: dict[int, AssociationType], pair: PairInput, ft: str, tt: str, default_only: bool
) -> list[AssociationType]:
    if default_only:
        base = default_type(ft, tt)
        if base is None:
            raise _bad_type(f"{ft} and {tt} have no default association type.")
        return [base]
    if not pair.types:
        raise ValidationError("Each association needs at least one type.",
                              [ErrorDetail("types is empty", "INVALID_ASSOCIATION_TYPE")])
    return with_default(types, [resolve_type(types, s, ft, tt) for s in pair.types])


def _existing_pairs(
    conn: Connection, account_id: int, ft: str, tt: str, pairs: Sequence[PairInput]
) -> tuple[list[tuple[int, int]], list[str]]:
    """Pairs as ids, ``(0, 0)`` in place of a pair naming no live record; and those ids."""
    parsed = [(_maybe_id(p.from_id), _maybe_id(p.to_id)) for p in pairs]
    live_from = _live(conn, account_id, ft, [f for f, _ in parsed])
    live_to = _live(conn, account_id, tt, [t for _, t in parsed])
    found, missing = [], []
    for pair, (f, t) in zip(pairs, parsed, strict=True):
        if f in live_from and t in live_to:
            found.append((f, t))
        else:
            found.append((0, 0))
            missing += [pair.from_id] if f not in live_from else [pair.to_id]
    return found, list(dict.fromkeys(missing))


def _maybe_id(raw: str) -> int:
    return parse_record_id(raw) or 0


def _live(conn: Connection, account_id: int, object_type: str, ids: Sequence[int]) -> set[int]:
    rows = record_store.load_records(conn, account_id, object_type, [i for i in ids if i])
    return {i for i, r in rows.items() if not r.archived}


def _labels_of(
    conn: Connection, account_id: int, ft: str, tt: str, pairs: Sequence[tuple[int, int]],
    types: dict[int, AssociationType],
) -> dict[tuple[int, int], list[str]]:
    links = assoc_store.load_links(conn, account_id, [f for f, _ in pairs], tt)
    return {(f, t): [types[i].label or "" for i in links.get(f, {}).get(t, [])
                     if i in types and types[i].label]
            for f, t in pairs}


def dissociate(
    engine: Engine, principal: Principal, from_type: str, to_type: str,
    pairs: Sequence[tuple[str, str]],
) -> None:
    """Remove every association type between each pair (unknown ids are ignored)."""
    ft, tt = _types(from_type, to_type)
    _require(principal, ft, tt, write=True)
    ids = [(_maybe_id(f), _maybe_id(t)) for f, t in pairs]
    with write_transaction(engine) as conn:
        assoc_store.remove_pairs(conn, principal.account_id, ft, tt,
                                 [(f, t) for f, t in ids if f and t], now_ms())


def dissociate_pair(
    engine: Engine, principal: Principal, from_type: str, from_id: str, to_type: str,
    to_id: str,
) -> None:
    """Remove every association type between two records; 404 unless both are live here."""
    ft, tt = _types(from_type, to_type)
    _require(principal, ft, tt, write=True)
    f, t = _to_id(from_id), _to_id(to_id)
    with write_transaction(engine) as conn:
        require_live(conn, principal.account_id, ft, [f], "from")
        require_live(conn, principal.account_id, tt, [t], "to")
        assoc_store.remove_pairs(conn, principal.account_id, ft, tt, [(f, t)], now_ms())


def remove_labels(
    engine: Engine, principal: Principal, from_type: str, to_type: str,
    pairs: Sequence[PairInput],
) -> None:
    """Remove only the given types; each pair keeps its other labels.

    Removing the unlabeled default type removes the whole pair, labels included, as
    HubSpot does. Pairs naming no record are ignored; an unknown type is a 400.
    """
    ft, tt = _types(from_type, to_type)
    _require(principal, ft, tt, write=True)
    with write_transaction(engine) as conn:
        types = assoc_store.load_types(conn, principal.account_id)
        links = [Link(ft, _maybe_id(p.from_id), tt, _maybe_id(p.to_id),
                      resolve_type(types, s, ft, tt)) for p in pairs for s in p.types]
        links = [lk for lk in links if lk.from_id and lk.to_id]
        whole = {(lk.from_id, lk.to_id) for lk in links if lk.type.is_default}
        now = now_ms()
        assoc_store.remove_links(conn, principal.account_id, [
            lk for lk in links if (lk.from_id, lk.to_id) not in whole], types, now)
        assoc_store.remove_pairs(conn, principal.account_id, ft, tt, sorted(whole), now)


def list_associations(
    engine: Engine, principal: Principal, from_type: str, from_id: str, to_type: str,
    after: str | None, limit: int,
) -> tuple[list[tuple[int, list[AssociationType]]], str | None]:
    """One page of the records ``from_id`` is associated with, with every type between them."""
    ft, tt = _types(from_type, to_type)
    _require(principal, ft, tt, write=False)
    rid, start = _maybe_id(from_id), _cursor(after)
    with read_transaction(engine) as conn:
        require_live(conn, principal.account_id, ft, [rid], "from")
        types = assoc_store.load_types(conn, principal.account_id)
        links = assoc_store.load_links(conn, principal.account_id, [rid], tt, start, limit + 1)
    found = sorted(links.get(rid, {}).items())
    page = [(to_id, [types[i] for i in tids if i in types]) for to_id, tids in found[:limit]]
    return page, (str(page[-1][0]) if len(found) > limit else None)


def _cursor(after: str | None) -> int:
    """The record id a paging cursor ``after`` names (0 for the first page)."""
    start = _maybe_id(after) if after else 0
    if after and not start:
        raise ValidationError(f"'after' must be a paging cursor, not {after!r}.")
    return start


# Associated records per input of a batch read: GET's largest page.
BATCH_READ_PAGE = 500


@dataclass(frozen=True)
class LinkPage:
    """One input's page of a batch read: its associated records with their types, and the
    cursor of the next page, if any."""

    from_id: int
    links: list[tuple[int, list[AssociationType]]]
    next_after: str | None


def read_batch(
    engine: Engine, principal: Principal, from_type: str, to_type: str,
    inputs: Sequence[tuple[str, str | None]],
) -> tuple[list[LinkPage], list[str]]:
    """For each ``(id, after)``, a page of the records it is associated with, after ``after``;
    ids naming no record are listed."""
    ft, tt = _types(from_type, to_type)
    _require(principal, ft, tt, write=False)
    wanted = [(_maybe_id(i), _cursor(after)) for i, after in inputs]
    with read_transaction(engine) as conn:
        live = _live(conn, principal.account_id, ft, [rid for rid, _ in wanted])
        types = assoc_store.load_types(conn, principal.account_id)
        starts = list(dict.fromkeys(w for w in wanted if w[0] in live))
        pages = assoc_store.load_link_pages(conn, principal.account_id, starts, tt,
                                            BATCH_READ_PAGE + 1)
    results = []
    for start in starts:
        found = sorted(pages.get(start, {}).items())
        page = [(to, [types[i] for i in tids if i in types])
                for to, tids in found[:BATCH_READ_PAGE]]
        more = len(found) > BATCH_READ_PAGE
        results.append(LinkPage(start[0], page, str(page[-1][0]) if more else None))
    return results, [raw for (raw, _), (rid, _) in zip(inputs, wanted, strict=True)
                     if rid not in live]
