"""Batch upsert (HubSpot's ``batch/upsert``): create or update each input, named by a value
of a unique property (``idProperty``) or, without one, by its record id."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine

from propsync.clock import now_ms
from propsync.domain.auth import Principal, object_scope
from propsync.domain.errors import ErrorDetail, ValidationError
from propsync.domain.history import ValueSource
from propsync.domain.objects import resolve_object_type
from propsync.domain.properties import PropertyDefinition, StoredValue, normalize_value
from propsync.services import record_keys as keys
from propsync.services.records import load_ordered, validate_all
from propsync.services.schema import Catalogue, PropertyWrites
from propsync.services.views import ReadSpec, RecordView
from propsync.storage import records as store
from propsync.storage.db import write_transaction


@dataclass(frozen=True)
class UpsertInput:
    id: str
    id_property: str | None
    properties: Mapping[str, object]


@dataclass
class UpsertResult:
    """The records written in input order, which of them are new, and the record ids of
    inputs that named no record (without ``idProperty`` a record cannot be created)."""

    views: list[RecordView]
    new: list[bool]
    missing: list[str] = field(default_factory=list)
    written: list[int] = field(default_factory=list)  # the inputs ``views`` are of, by index


def upsert_records(
    engine: Engine, principal: Principal, object_type: str, inputs: Sequence[UpsertInput],
    source: ValueSource,
) -> UpsertResult:
    """Update the records the inputs name and create the others; all or nothing, but for
    record ids that do not exist, which are reported."""
    ot = resolve_object_type(object_type).name
    principal.require(object_scope(ot, write=True))
    now = now_ms()
    with write_transaction(engine) as conn:
        catalogue = Catalogue.load(conn, principal, ot)
        writes = validate_all(catalogue, [i.properties for i in inputs])
        key_values = _key_values(catalogue, inputs, writes)
        ids = _existing(conn, catalogue, inputs)
        fresh = [i for i, rid in enumerate(ids) if rid == 0 and key_values[i]]
        for index in fresh:  # a new record gets the key's value: the caller edits it
            catalogue.writes({key_values[index][0][0].name: inputs[index].id},
                             f"inputs[{index}].id")
        created = store.insert_records(conn, principal.account_id, ot, len(fresh), now)
        for index, rid in zip(fresh, created, strict=True):
            ids[index] = rid
        store.write_values(conn, principal.account_id, ot, [
            (rid, prop.id, value) for rid, key, items in zip(ids, key_values, writes, strict=True)
            if rid for prop, value in [*items, *key]], source, now)
        names = [n for i in inputs for n in i.properties]
        names += [p.name for key in key_values for p, _ in key]
        done = [rid for rid in ids if rid]
        views = load_ordered(conn, catalogue, done, ReadSpec(properties=list(dict.fromkeys(
            names))))
    missing = [i.id for i, rid in zip(inputs, ids, strict=True) if not rid]
    return UpsertResult(views, [rid in created for rid in done], missing,
                        [index for index, rid in enumerate(ids) if rid])


Key = list[tuple[PropertyDefinition, StoredValue | None]]


def _key_values(catalogue: Catalogue, inputs: Sequence[UpsertInput],
                writes: Sequence[PropertyWrites]) -> list[Key]:
    """Per input, the unique value a new record gets (empty for a record id). Refuses a
    key named twice, a value that cannot be one, and properties that give the key
    property another value."""
    result: list[Key] = []
    seen: set[tuple[str, str]] = set()
    for index, (given, items) in enumerate(zip(inputs, writes, strict=True)):
        prop = keys.key_property(catalogue, given.id_property)
        value = None if prop is None else _normalized(prop, given.id)
        name, text = (prop.name, value.text) if prop and value else (keys.RECORD_ID, given.id)
        if prop is not None and value is None:
            raise _refused(index, f"{given.id[:100]!r} cannot be a value of {prop.name}.")
        if (name, text) in seen:
            raise _refused(index, f"The id {given.id[:100]!r} is named twice in this batch.")
        seen.add((name, text))
        if prop is not None and any(p.id == prop.id and (v is None or v.text != text)
                                    for p, v in items):
            raise _refused(index, f"properties.{prop.name} differs from the id it is upserted "
                                  "by; leave it out or give the same value.")
        result.append([] if prop is None else [(prop, value)])
    return result


def _normalized(prop: PropertyDefinition, raw: str) -> StoredValue | None:
    try:
        return normalize_value(prop, raw)
    except ValidationError:
        return None


def _existing(conn: Connection, catalogue: Catalogue, inputs: Sequence[UpsertInput]
              ) -> list[int]:
    """The live record each input names (0: none), one lookup per ``idProperty``."""
    ids = [0] * len(inputs)
    groups: dict[str | None, list[int]] = {}
    for index, given in enumerate(inputs):
        groups.setdefault(keys.key_property_name(given.id_property), []).append(index)
    for id_property, members in groups.items():
        found = keys.resolve(conn, catalogue, id_property, [inputs[i].id for i in members])
        for index, rid in zip(members, found, strict=True):
            ids[index] = rid
    rows = store.load_records(conn, catalogue.principal.account_id, catalogue.object_type,
                              [i for i in ids if i])
    return [rid if rid in rows and not rows[rid].archived else 0 for rid in ids]


def _refused(index: int, message: str) -> ValidationError:
    text = f"inputs[{index}]: {message} Nothing was changed."
    return ValidationError(text, [ErrorDetail(text, "INVALID_INPUT", in_=f"inputs[{index}]")])
