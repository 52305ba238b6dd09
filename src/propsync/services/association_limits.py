"""Association limits (HubSpot's association configurations): how many records one
record may be associated with by one association type. Read, create, update, purge.

Limits are enforced where associations are written (``storage.associations.add_links``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine

from propsync.clock import now_ms
from propsync.domain.associations import PRIMARY_LIMIT, AssociationType, check_limit
from propsync.domain.auth import Principal, schema_scope
from propsync.domain.errors import (
    AlreadyExistsError,
    ForbiddenError,
    NotFoundError,
    ValidationError,
)
from propsync.domain.objects import OBJECT_TYPES
from propsync.services.associations import TypeSpec, resolve_type
from propsync.services.labels import require_pair
from propsync.storage import association_limits as limit_store
from propsync.storage import associations as assoc_store
from propsync.storage.db import read_transaction, write_transaction


@dataclass(frozen=True)
class LimitView:
    """A type and its limit (``userEnforcedMaxToObjectIds``)."""

    type: AssociationType
    limit: int


@dataclass(frozen=True)
class LimitInput:
    spec: TypeSpec
    limit: int


def list_all(engine: Engine, principal: Principal) -> list[LimitView]:
    """Every limit between object types whose schemas the token may read, Primary's
    built-in "at most one" included."""
    wanted = [schema_scope(ot) for ot in OBJECT_TYPES]
    if not set(wanted) & principal.scopes:
        raise ForbiddenError("Reading association limits needs the schema read scope of at "
                             "least one object type.", context={"requiredGranularScopes": wanted})
    return [v for v in _views(engine, principal)
            if {schema_scope(v.type.from_type), schema_scope(v.type.to_type)}
            <= principal.scopes]


def list_pair(engine: Engine, principal: Principal, from_type: str, to_type: str
              ) -> list[LimitView]:
    """The limits of the types from ``from_type`` to ``to_type``."""
    ft, tt = require_pair(principal, from_type, to_type, write=False)
    return [v for v in _views(engine, principal)
            if (v.type.from_type, v.type.to_type) == (ft, tt)]


def _views(engine: Engine, principal: Principal) -> list[LimitView]:
    with read_transaction(engine) as conn:
        types = assoc_store.load_types(conn, principal.account_id)
        limits = limit_store.load_limits(conn, principal.account_id)
    views = [LimitView(types[tid], n) for tid, n in limits.items() if tid in types]
    views += [LimitView(t, PRIMARY_LIMIT) for t in types.values() if t.is_primary]
    return sorted(views, key=lambda v: (v.type.from_type, v.type.to_type, v.type.type_id))


def create_limits(engine: Engine, principal: Principal, from_type: str, to_type: str,
                  inputs: Sequence[LimitInput]) -> list[LimitView]:
    """Set limits on types that have none (409 if one has); all or nothing."""
    return _write(engine, principal, from_type, to_type, inputs, creating=True)


def update_limits(engine: Engine, principal: Principal, from_type: str, to_type: str,
                  inputs: Sequence[LimitInput]) -> list[LimitView]:
    """Change limits that exist (404 if one does not); all or nothing."""
    return _write(engine, principal, from_type, to_type, inputs, creating=False)


def _write(engine: Engine, principal: Principal, from_type: str, to_type: str,
           inputs: Sequence[LimitInput], creating: bool) -> list[LimitView]:
    ft, tt = require_pair(principal, from_type, to_type, write=True)
    _refuse_repeats([i.spec for i in inputs])
    with write_transaction(engine) as conn:
        assoc_store.lock_user_types(conn, principal.account_id)
        types = assoc_store.load_types(conn, principal.account_id)
        limits = limit_store.load_limits(conn, principal.account_id)
        chosen = [resolve_type(types, i.spec, ft, tt) for i in inputs]
        after = {**limits, **{ty.type_id: i.limit for ty, i in zip(chosen, inputs, strict=True)}}
        for ty, given in zip(chosen, inputs, strict=True):
            check_limit(ty, given.limit, {
                tid: n for tid, n in after.items() if tid != ty.type_id and tid in types
                and (types[tid].from_type, types[tid].to_type) == (ft, tt)})
            _check_exists(ty, ty.type_id in limits, creating)
        limit_store.set_limits(conn, principal.account_id,
                               {ty.type_id: i.limit for ty, i in zip(chosen, inputs,
                                                                     strict=True)}, now_ms())
    return [LimitView(ty, i.limit) for ty, i in zip(chosen, inputs, strict=True)]


def _check_exists(ty: AssociationType, exists: bool, creating: bool) -> None:
    if creating and exists:
        raise AlreadyExistsError(f"Association type {ty.type_id} already has a limit; change "
                                 "it with batch/update.")
    if not creating and not exists:
        raise NotFoundError(f"Association type {ty.type_id} has no limit to update; set one "
                            "with batch/create.")


def _refuse_repeats(specs: Sequence[TypeSpec]) -> None:
    ids = [s.type_id for s in specs]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ValidationError(f"Each association type may appear once in a batch; repeated: "
                              f"{', '.join(map(str, repeated))}.")


def purge_limits(engine: Engine, principal: Principal, from_type: str, to_type: str,
                 specs: Sequence[TypeSpec]) -> None:
    """Remove the limits of the given types (types without one are ignored); Primary's
    built-in limit stays (400)."""
    ft, tt = require_pair(principal, from_type, to_type, write=True)
    with write_transaction(engine) as conn:
        assoc_store.lock_user_types(conn, principal.account_id)
        types = assoc_store.load_types(conn, principal.account_id)
        chosen = [resolve_type(types, s, ft, tt) for s in specs]
        primary = next((ty for ty in chosen if ty.is_primary), None)
        if primary is not None:
            raise ValidationError(f"{primary.label} ({primary.type_id}) is built in: a record "
                                  f"has at most {PRIMARY_LIMIT}, and that cannot be removed.")
        limit_store.delete_limits(conn, principal.account_id, [ty.type_id for ty in chosen])
