"""Association use cases: validating types and records, labelled and default links."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from propsync.domain.associations import CATEGORIES, AssociationType, default_type
from propsync.domain.auth import Principal
from propsync.domain.errors import ErrorDetail, NotFoundError, ValidationError
from propsync.storage import associations as assoc_store
from propsync.storage import records as record_store
from propsync.storage.associations import Link


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
            to_id = _to_id(item.to_id)
            require_live(conn, principal.account_id, to_type, [to_id], "association target")
            links += [Link(from_type, record_id, to_type, to_id, ty)
                      for ty in with_default(types, chosen)]
    return links


def _to_id(raw: str) -> int:
    text = str(raw).strip()
    if not text.isdigit() or len(text) > 18:
        raise NotFoundError(f"No record has the id {raw!r}.", context={"id": [str(raw)]})
    return int(text)
