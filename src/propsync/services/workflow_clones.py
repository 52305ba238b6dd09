"""Cloning a workflow, optionally with one property put in another's place
(``POST /propsync/v1/workflows/{flowId}/clone``; the migration's step 3: build the new
flow on the new property, check it, then retire the old one).

The clone is made from the definition as saved (HubSpot's shape), named as asked (else
"<name> (clone)"), turned off, and saved as a new flow is: read, checked against the
account (``FlowChecker``: a replacement that makes it write a sync property is a
``READ_ONLY_VALUE`` refusal, as a save's) and stored, in one transaction under the
definitions lock. A replacement names the property the flow uses and the one to put in
its place; either may be written ``objectType.name`` — needed only when the flow uses
properties of that name on more than one object type. The two must compare alike
(``domain.usage.check_replacement``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from propsync.domain.auth import Principal
from propsync.domain.errors import ErrorDetail, PermissionDeniedError, ValidationError
from propsync.domain.objects import resolve_object_type
from propsync.domain.properties import PropertyDefinition
from propsync.domain.usage import Replacement, check_replacement
from propsync.domain.workflow_usage import object_types_using, replaced_definition
from propsync.domain.workflows import MAX_NAME_LENGTH
from propsync.services import workflows as flows
from propsync.services.schema import Catalogue
from propsync.services.workflow_checks import require_schemas
from propsync.services.workflow_usage import association_ends
from propsync.storage.associations import load_types
from propsync.storage.changes import lock_definitions
from propsync.storage.db import write_transaction
from propsync.storage.workflows import StoredFlow

MAX_NAME_CHARS = 300  # a replacement's property, written objectType.name


@dataclass(frozen=True)
class CloneRequest:
    """What to call the clone (``None``: "<name> (clone)") and, optionally, the property
    to replace (``old``) and the one to put in its place (``new``)."""

    name: str | None = None
    old: str | None = None
    new: str | None = None


def clone_flow(engine: Engine, principal: Principal, flow_id: str, request: CloneRequest
               ) -> StoredFlow:
    """A new flow (off, revision 1) from ``flow_id``'s definition, with the replacement."""
    flows.require_manager(principal)
    with write_transaction(engine) as conn:
        lock_definitions(conn, principal.account_id)
        stored = flows.existing(conn, principal.account_id, flow_id)
        require_schemas(principal, [stored.flow], load_types(conn, principal.account_id))
        definition = dict(stored.definition)
        if request.old is not None or request.new is not None:
            ends = association_ends(conn, principal.account_id)
            replacement = _replacement(conn, principal, stored, ends, request)
            definition = replaced_definition(definition, stored.flow, ends, replacement)
        definition["name"] = request.name if request.name is not None else _clone_name(stored)
        definition["isEnabled"] = False
        flow, saved_definition = flows.read_definition(definition)
        return flows.insert_checked(conn, principal, flow, saved_definition)


def _clone_name(stored: StoredFlow) -> str:
    suffix = " (clone)"
    return (stored.name or f"Workflow {stored.flow_id}")[:MAX_NAME_LENGTH - len(suffix)] + suffix


def _replacement(conn: Connection, principal: Principal, stored: StoredFlow,
                 ends: Mapping[int, str], request: CloneRequest) -> Replacement:
    """The replacement asked for, checked: the flow uses the old property, the new one
    exists on the same object type, the caller may view it, and the two compare alike."""
    if not request.old or not request.new:
        raise _refusal("replace", "a replacement names the property to replace ('property') "
                       "and the one to put in its place ('with').", "INVALID_REPLACEMENT")
    old_type, old = _qualified(request.old, "replace.property")
    new_type, new = _qualified(request.new, "replace.with")
    using = object_types_using(stored.flow, ends, old)
    if old_type is not None:
        using = [t for t in using if t == old_type]
    if not using:
        raise _refusal("replace.property", f"workflow {stored.flow_id} does not use a property "
                       f"named {request.old[:100]!r}.", "PROPERTY_NOT_USED")
    if len(using) > 1:
        raise _refusal("replace.property", f"workflow {stored.flow_id} uses {old!r} of "
                       f"{' and '.join(using)}: write which, e.g. {using[0]}.{old}.",
                       "AMBIGUOUS_REPLACEMENT")
    object_type = using[0]
    if new_type not in (None, object_type):
        raise _refusal("replace.with", f"{old!r} here is a property of {object_type}; the "
                       f"property in its place must be of {object_type} too, not {new_type}.",
                       "INCOMPATIBLE_REPLACEMENT")
    catalogue = Catalogue.load(conn, principal, object_type)
    current = catalogue.by_name.get(old)
    if current is None:  # a flow saved before its property went
        raise _refusal("replace.property", f"{object_type} has no property named "
                       f"{old[:100]!r} any more.", "PROPERTY_DOESNT_EXIST")
    check_replacement(current, _viewable(catalogue, object_type, new))
    return Replacement(object_type, old, new)


def _qualified(raw: str, path: str) -> tuple[str | None, str]:
    """``objectType.name`` → (its object type, name); a bare name → (None, name)."""
    if len(raw) > MAX_NAME_CHARS:
        raise _refusal(path, f"a property name has at most {MAX_NAME_CHARS} characters.",
                       "INVALID_REPLACEMENT")
    head, dot, name = raw.partition(".")
    if not dot:
        return None, raw
    return resolve_object_type(head).name, name


def _viewable(catalogue: Catalogue, object_type: str, name: str) -> PropertyDefinition:
    """The property ``name`` if it exists and the caller may view it (refused before
    anything about it is looked at)."""
    prop = catalogue.visible.get(name)
    if prop is None and name in catalogue.by_name:
        message = (f"You may not view property {name!r} of {object_type}: its access is "
                   "restricted to other users, so a workflow you save cannot use it.")
        raise PermissionDeniedError(message, [ErrorDetail(
            message, "PROPERTY_VIEW_RESTRICTED", {"propertyName": [name]})])
    if prop is None:
        raise _refusal("replace.with", f"{object_type} has no property named {name[:100]!r}.",
                       "PROPERTY_DOESNT_EXIST")
    return prop


def _refusal(path: str, what: str, code: str) -> ValidationError:
    message = f"{path}: {what}"
    return ValidationError(message, [ErrorDetail(message, code, {"path": [path]}, path)])
