"""Where a property is used, and replacing it in a copy of an asset (pure).

Every kind of asset that names properties (sync properties, workflows, lists, reports)
answers "where do you use this property?" with ``Use`` rows, which the property's "Used in"
tab and API list, and which refuse deleting or restricting a property in use. Cloning an
asset can put another property in the old one's place (the migration's step 3): a
``Replacement``, allowed only between properties whose values compare alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from propsync.domain.errors import ErrorDetail, ValidationError
from propsync.domain.properties import PropertyDefinition

KINDS = ("sync property", "workflow", "list", "report")


@dataclass(frozen=True)
class Use:
    """One asset's use of one property: ``parts`` says where in the asset (an enrollment
    filter, action 2's copied value, the group-by, ...); ``link`` is the asset's page."""

    kind: str  # one of KINDS
    asset_id: str
    name: str
    object_type: str  # the asset's object type (whose schema scope may read it)
    parts: tuple[str, ...]
    link: str
    # The properties of ``object_type`` whose values decide what the asset shows (a list's
    # or a report's filter, group-by, measure): one the caller may not view hides the
    # asset from them, so its use is only counted.
    reads: tuple[str, ...] = ()


@dataclass(frozen=True)
class Replacement:
    """Put ``new`` wherever ``old`` (a property of ``object_type``) is used in a clone."""

    object_type: str
    old: str
    new: str


def incompatible(old: PropertyDefinition, new: PropertyDefinition) -> str | None:
    """Why ``new`` cannot take ``old``'s place in filters, group-bys and actions, or ``None``
    when it can: the same object type and a type whose values compare alike (a text
    property's values as text, numbers as numbers, dates as dates; an enumeration's options
    must include every option the old one has)."""
    if old.object_type != new.object_type:
        return (f"{new.name} is a property of {new.object_type}, not of {old.object_type}")
    if old.id == new.id:
        return f"{new.name} is the property it would replace"
    if _family(old) != _family(new):
        return (f"{new.name} holds {new.type} values and {old.name} {old.type} values, "
                "which do not compare alike")
    if old.type == "enumeration":
        missing = {o.value for o in old.options} - {o.value for o in new.options}
        if missing:
            return (f"{new.name} lacks {len(missing)} of {old.name}'s options "
                    f"({', '.join(sorted(missing)[:5])})")
    return None


def check_replacement(old: PropertyDefinition, new: PropertyDefinition) -> None:
    """``incompatible`` as a 400 naming both properties."""
    reason = incompatible(old, new)
    if reason is not None:
        message = f"{new.name} cannot replace {old.name}: {reason}."
        raise ValidationError(message, [ErrorDetail(message, "INCOMPATIBLE_REPLACEMENT")])


def _family(prop: PropertyDefinition) -> str:
    if prop.type in ("date", "datetime"):
        return "date"
    return prop.type
