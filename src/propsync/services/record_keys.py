"""Naming a record by the value of a unique property (HubSpot's ``idProperty``).

Without ``idProperty`` (or with ``hs_object_id``) an id is the record id. Otherwise it is a
value of a property created with ``hasUniqueValue``, which at most one live record holds.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection

from propsync.domain.errors import ErrorDetail, NotFoundError, ValidationError
from propsync.domain.properties import PropertyDefinition, normalize_value
from propsync.domain.record_ids import parse_record_id
from propsync.services.schema import Catalogue
from propsync.storage import unique_values as uv

RECORD_ID = "hs_object_id"


def key_property_name(name: str | None) -> str | None:
    """``name`` if it names a property other than the record id, else ``None``."""
    return None if name in (None, "", RECORD_ID) else name


def key_property(catalogue: Catalogue, name: str | None) -> PropertyDefinition | None:
    """The unique property ``name`` names (``None``: ids are record ids).

    A property the caller may not view is refused exactly like one that does not exist."""
    if name is None or key_property_name(name) is None:
        return None
    prop = catalogue.visible.get(name)
    if prop is None or not prop.has_unique_value:
        message = (f"idProperty {name[:100]!r} is not a property of {catalogue.object_type} "
                   "whose values are unique: use a property created with hasUniqueValue, or "
                   f"leave idProperty out to use record ids ({RECORD_ID}).")
        raise ValidationError(message, [ErrorDetail(message, "INVALID_ID_PROPERTY",
                                                    in_="idProperty")])
    return prop


def canonical(prop: PropertyDefinition, raw: str) -> str | None:
    """The stored form of ``raw`` as a value of ``prop`` (``None``: no value can be it)."""
    try:
        value = normalize_value(prop, raw)
    except ValidationError:
        return None
    return value.text if value is not None else None


def resolve(conn: Connection, catalogue: Catalogue, id_property: str | None,
            raws: Sequence[str]) -> list[int]:
    """The record each of ``raws`` names, or 0 (no record's id) where none: a record id is
    only read, a unique value is looked up among the live records."""
    prop = key_property(catalogue, id_property)
    if prop is None:
        return [parse_record_id(raw) or 0 for raw in raws]
    texts = [canonical(prop, raw) for raw in raws]
    found = uv.holders(conn, catalogue.principal.account_id, prop.id,
                       [t for t in texts if t is not None])
    return [found.get(t, 0) if t is not None else 0 for t in texts]


def resolve_one(conn: Connection, catalogue: Catalogue, id_property: str | None,
                raw: str) -> int:
    """The record ``raw`` names; 404 when none does."""
    (rid,) = resolve(conn, catalogue, id_property, [raw])
    if rid == 0:
        by = f" as {id_property}" if key_property(catalogue, id_property) else ""
        raise NotFoundError(f"No {catalogue.object_type} record has the id {raw[:100]!r}{by}.",
                            context={"id": [raw[:100]]})
    return rid
