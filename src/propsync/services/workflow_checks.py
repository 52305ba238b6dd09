"""A flow checked against its account: the names it uses exist and fit, and the caller may
use them (``services/workflows.py`` runs these checks in the transaction of a save).

- every property a flow reads (enrollment filters, re-enrollment triggers, a branch, a
  copied value) exists on the right object type — the enrolled record's, a data
  source's, or an associated target's — and the caller may view it;
- every property it writes is one the caller may edit, not calculated and not a sync
  property (``READ_ONLY_VALUE``, as record writes refuse it);
- a static value is valid for the written property (``normalize_value``), a filter's or
  branch's value for the property it compares;
- a copied value's property fits the written one (``can_copy``);
- every association type exists in the account, in the category named, and joins the
  enrolled object type to the data source's or target's object type.

A property the caller may not view is refused before anything about it is looked at, so
a refusal never describes it (its type, options or values).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager

from sqlalchemy import Connection

from propsync.domain.associations import AssociationType
from propsync.domain.auth import Principal, schema_scope
from propsync.domain.errors import (
    ErrorDetail,
    ForbiddenError,
    PermissionDeniedError,
    PropsyncError,
    ValidationError,
)
from propsync.domain.filters import Filter
from propsync.domain.properties import PropertyDefinition, normalize_value
from propsync.domain.workflows import (
    FLOW_OBJECT_TYPES,
    EnrolledProperty,
    FetchedProperty,
    Flow,
    SetProperty,
    StaticBranch,
    StaticValue,
)
from propsync.services.schema import Catalogue
from propsync.storage.associations import load_types

# The filter operators whose operands are values of the property.
_VALUE_OPERATORS = ("EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "IN", "NOT_IN")


def object_types_of(flow: Flow, types: Mapping[int, AssociationType]) -> set[str]:
    """Every object type the flow shows or uses properties of: its own, its data
    sources', and those of the records it writes through an association type."""
    found = {flow.object_type}
    found |= {FLOW_OBJECT_TYPES[s.object_type_id] for s in flow.sources.values()}
    for action in flow.actions.values():
        if isinstance(action, SetProperty) and action.target is not None and \
                action.target.type_id in types:
            found.add(types[action.target.type_id].to_type)
    return found


def require_schemas(principal: Principal, flows: Iterable[Flow],
                    types: Mapping[int, AssociationType]) -> None:
    """403 unless the token may read the schema of every object type the flows touch: a
    flow names their properties (``automation`` alone shows only the listing)."""
    needed = set().union(*(object_types_of(f, types) for f in flows))
    principal.require(*(schema_scope(t) for t in sorted(needed)))


def can_copy(source: PropertyDefinition, target: PropertyDefinition) -> bool:
    """Whether every value of ``source`` is a value ``target`` takes: any property into a
    text (string) property; a number, bool, date or date-time into the same type; a date
    into a date-time and back (midnight UTC; the day of the moment, in UTC); an
    enumeration into an enumeration that has every one of its options."""
    if target.type == "string" or {source.type, target.type} == {"date", "datetime"}:
        return True
    if source.type != target.type:
        return False
    if target.type == "enumeration":
        return {o.value for o in source.options} <= {o.value for o in target.options}
    return True


class FlowChecker:
    """The checks of one flow against the account, in one transaction."""

    def __init__(self, conn: Connection, principal: Principal, flow: Flow) -> None:
        self.conn, self.principal, self.flow = conn, principal, flow
        self.types = load_types(conn, principal.account_id)
        self._catalogues: dict[str, Catalogue] = {}

    def check(self) -> None:
        """Raise the first refusal, naming the part of the definition it is about (a
        missing schema scope first)."""
        flow = self.flow
        require_schemas(self.principal, [flow], self.types)
        for i, source in enumerate(flow.sources.values()):
            self.join(source.category, source.type_id, FLOW_OBJECT_TYPES[source.object_type_id],
                      f"dataSources[{i}]")
        for g, group in enumerate(flow.enrollment.groups):
            for f in group:
                with located(f"enrollmentCriteria.listFilterBranch (branch {g + 1}, "
                             f"{f.property_name})"):
                    self.check_filter(f)
        for name in sorted(flow.enrollment.re_enroll_on):
            with located("enrollmentCriteria.reEnrollmentTriggersFilterBranches"):
                self.readable(flow.object_type, name)
        for i, action in enumerate(flow.actions.values()):
            if isinstance(action, SetProperty):
                self.check_set(action, f"actions[{i}]")
            elif isinstance(action, StaticBranch):
                with located(f"actions[{i}].inputValue"):
                    self.check_branch(action)

    def catalogue(self, object_type: str) -> Catalogue:
        if object_type not in self._catalogues:
            self._catalogues[object_type] = Catalogue.load(self.conn, self.principal, object_type)
        return self._catalogues[object_type]

    def readable(self, object_type: str, name: str) -> PropertyDefinition:
        """The property, if it exists on ``object_type`` and the caller may view it."""
        catalogue = self.catalogue(object_type)
        prop = catalogue.visible.get(name)
        if prop is None and name in catalogue.by_name:
            message = (f"You may not view property {name!r} of {object_type}: its access is "
                       "restricted to other users, so a workflow you save cannot read it.")
            raise PermissionDeniedError(message, [ErrorDetail(
                message, "PROPERTY_VIEW_RESTRICTED", {"propertyName": [name]})])
        if prop is None:
            message = f"Property {name!r} does not exist on {object_type}."
            raise ValidationError(message, [ErrorDetail(
                message, "PROPERTY_DOESNT_EXIST", {"propertyName": [name]})])
        return prop

    def check_filter(self, f: Filter) -> None:
        prop = self.readable(self.flow.object_type, f.property_name)
        if f.operator in _VALUE_OPERATORS:
            for raw in (f.value, f.high_value, *f.values):
                if raw is not None:
                    _comparable(prop, raw)

    def check_branch(self, action: StaticBranch) -> None:
        prop = self.readable(self.flow.object_type, action.property_name)
        for value, _ in action.branches:
            _comparable(prop, value)

    def check_set(self, action: SetProperty, path: str) -> None:
        target_type = self.flow.object_type
        if action.target is not None:
            target_type = self.join(action.target.category, action.target.type_id, None,
                                    f"{path}.fields.association").to_type
        with located(f"{path}.fields.property_name"):
            target = self.catalogue(target_type).writable(action.property_name)
        value = action.value
        if isinstance(value, StaticValue):
            with located(f"{path}.fields.value.staticValue"):
                normalize_value(target, value.text)
            return
        if isinstance(value, EnrolledProperty):
            source_type, name = self.flow.object_type, value.name
        else:
            assert isinstance(value, FetchedProperty)
            source_type, name = self.source_type(value.source), value.name
        where = f"{path}.fields.value"
        with located(where):
            source = self.readable(source_type, name)
        if not can_copy(source, target):
            raise _refusal(where, f"{source_type}.{name} ({source.type}) cannot be copied into "
                           f"{target_type}.{target.name} ({target.type}): copy into a "
                           "property of the same type, a date into a date-time (or back), "
                           "or anything into a text property.", "INCOMPATIBLE_PROPERTY_TYPES")

    def source_type(self, source: str) -> str:
        return FLOW_OBJECT_TYPES[self.flow.sources[source].object_type_id]

    def join(self, category: str, type_id: int, to_type: str | None, path: str
             ) -> AssociationType:
        """The association type, if the account has it in ``category`` and it leads from the
        enrolled object type (to ``to_type``, when given)."""
        found = self.types.get(type_id)
        if found is None or found.category != category:
            raise _refusal(f"{path}.associationTypeId", f"the account has no {category} "
                           f"association type {type_id}.", "UNKNOWN_ASSOCIATION_TYPE")
        if found.from_type != self.flow.object_type or to_type not in (None, found.to_type):
            raise _refusal(f"{path}.associationTypeId", f"association type {type_id} joins "
                           f"{found.from_type} to {found.to_type}, not {self.flow.object_type} "
                           f"to {to_type or 'another object'}.", "WRONG_ASSOCIATION_TYPE")
        return found


def _comparable(prop: PropertyDefinition, raw: str) -> None:
    """A value a filter or branch compares ``prop`` with is one of its values."""
    stored = normalize_value(prop, raw)
    if prop.is_numeric and (stored is None or stored.number is None):
        raise ValidationError(f"{raw!r} is not a value of {prop.name!r} ({prop.type}).")


@contextmanager
def located(path: str) -> Iterator[None]:
    """A refusal raised inside names ``path`` (the part of the definition) in front."""
    try:
        yield
    except (ValidationError, ForbiddenError) as exc:
        raise _located(path, exc) from None


def _located(path: str, exc: PropsyncError) -> PropsyncError:
    message = f"{path}: {exc.message}"
    details = [ErrorDetail(f"{path}: {d.message}", d.code, {**d.context, "path": [path]}, path)
               for d in exc.details] or [ErrorDetail(message, None, {"path": [path]}, path)]
    return type(exc)(message, details)


def _refusal(path: str, what: str, code: str) -> ValidationError:
    message = f"{path}: {what}"
    return ValidationError(message, [ErrorDetail(message, code, {"path": [path]}, path)])
