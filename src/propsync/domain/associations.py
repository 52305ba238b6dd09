"""Association types: HubSpot's published type ids, their inverses, and the Primary rule.

Every association type has a direction (from one object type to another) and an
inverse. An association between two records is stored once per direction and
type, so it is visible from both ends. A user-defined label is a pair of
directional types created together.
"""

from __future__ import annotations

from dataclasses import dataclass

from propsync.domain.errors import ValidationError

HUBSPOT_DEFINED = "HUBSPOT_DEFINED"
USER_DEFINED = "USER_DEFINED"
CATEGORIES = (HUBSPOT_DEFINED, USER_DEFINED)

# First id handed to a user-defined label; HubSpot-defined ids stay below it.
FIRST_USER_DEFINED_TYPE_ID = 1000
MAX_LABEL_LENGTH = 200  # the width of the stored label


@dataclass(frozen=True)
class AssociationType:
    """One directional association type."""

    type_id: int
    category: str
    from_type: str
    to_type: str
    inverse_id: int
    label: str | None  # None for the unlabeled default
    name: str  # the v3 "type" name, e.g. contact_to_company_unlabeled
    is_primary: bool = False  # the from-record may have at most one of these

    @property
    def is_default(self) -> bool:
        return self.category == HUBSPOT_DEFINED and self.label is None


def _pair(
    a: str, b: str, forward: int, inverse: int, label: str | None, name_ab: str, name_ba: str,
    primary: bool = False,
) -> tuple[AssociationType, AssociationType]:
    return (
        AssociationType(forward, HUBSPOT_DEFINED, a, b, inverse, label, name_ab, primary),
        AssociationType(inverse, HUBSPOT_DEFINED, b, a, forward, label, name_ba),
    )


_BUILT_IN = (
    *_pair("contacts", "companies", 279, 280, None,
           "contact_to_company_unlabeled", "company_to_contact_unlabeled"),
    *_pair("contacts", "companies", 1, 2, "Primary",
           "contact_to_company", "company_to_contact", primary=True),
    *_pair("contacts", "deals", 4, 3, None, "contact_to_deal", "deal_to_contact"),
    *_pair("contacts", "tickets", 15, 16, None, "contact_to_ticket", "ticket_to_contact"),
    *_pair("deals", "companies", 341, 342, None,
           "deal_to_company_unlabeled", "company_to_deal_unlabeled"),
    *_pair("deals", "companies", 5, 6, "Primary", "deal_to_company", "company_to_deal",
           primary=True),
    *_pair("tickets", "companies", 339, 340, None,
           "ticket_to_company_unlabeled", "company_to_ticket_unlabeled"),
    *_pair("tickets", "companies", 26, 25, "Primary", "ticket_to_company", "company_to_ticket",
           primary=True),
    *_pair("deals", "tickets", 27, 28, None, "deal_to_ticket", "ticket_to_deal"),
    *_pair("companies", "companies", 13, 14, "Parent company",
           "parent_to_child_company", "child_to_parent_company"),
)
_SAME_TYPE_DEFAULTS = (
    AssociationType(449, HUBSPOT_DEFINED, "contacts", "contacts", 449, None, "contact_to_contact"),
    AssociationType(450, HUBSPOT_DEFINED, "companies", "companies", 450, None,
                    "company_to_company"),
    AssociationType(451, HUBSPOT_DEFINED, "deals", "deals", 451, None, "deal_to_deal"),
    AssociationType(452, HUBSPOT_DEFINED, "tickets", "tickets", 452, None, "ticket_to_ticket"),
)

BUILT_IN_TYPES: dict[int, AssociationType] = {t.type_id: t for t in _BUILT_IN + _SAME_TYPE_DEFAULTS}


def default_type(from_type: str, to_type: str) -> AssociationType | None:
    """The unlabeled type from ``from_type`` to ``to_type``, if the pair can be associated."""
    for t in BUILT_IN_TYPES.values():
        if t.from_type == from_type and t.to_type == to_type and t.is_default:
            return t
    return None


def user_defined_pair(
    from_type: str, to_type: str, forward_id: int, label: str, inverse_label: str | None, name: str
) -> tuple[AssociationType, AssociationType]:
    """A new user-defined label and its inverse; same-type labels get distinct ids."""
    if from_type == to_type and inverse_label is None:
        forward = AssociationType(
            forward_id, USER_DEFINED, from_type, to_type, forward_id, label, name
        )
        return forward, forward
    inverse_id = forward_id + 1
    return (
        AssociationType(forward_id, USER_DEFINED, from_type, to_type, inverse_id, label, name),
        AssociationType(inverse_id, USER_DEFINED, to_type, from_type, forward_id,
                        inverse_label or label, f"{name}_inverse"),
    )


def check_label(text: str, field: str = "label") -> str:
    """``text`` if it can be shown as an association label; a ValidationError says why not."""
    if not text.strip():
        raise ValidationError(f"A label needs a non-empty {field!r}.")
    if len(text) > MAX_LABEL_LENGTH:
        raise ValidationError(f"{field!r} has {len(text)} characters; a label has at most "
                              f"{MAX_LABEL_LENGTH}.")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise ValidationError(f"{field!r} contains a control character; use plain text.")
    return text


# HubSpot's association limits (``maxToObjectIds``): at least one; the field is an int32.
MAX_TO_OBJECT_IDS = 2**31 - 1
PRIMARY_LIMIT = 1  # the built-in "at most one Primary", reported as a configuration


def check_limit(
    ty: AssociationType, limit: int, limits: dict[int, int],
) -> None:
    """``limit`` may be set on ``ty`` given ``limits``: type id → limit of the types of the
    same direction (``ty``'s own ignored).

    As in HubSpot: Primary's limit is built in; a label's limit is at most the limit of its
    direction's unlabeled type (every labelled association also carries that type), and
    the unlabeled type's limit at least every label's limit of its direction.
    """
    if ty.is_primary:
        raise ValidationError(f"{ty.label} ({ty.type_id}) is built in: a record has at most "
                              f"{PRIMARY_LIMIT}. Its limit cannot be changed.")
    if not 1 <= limit <= MAX_TO_OBJECT_IDS:
        raise ValidationError(f"maxToObjectIds must be between 1 and {MAX_TO_OBJECT_IDS}, "
                              f"not {limit}.")
    base = default_type(ty.from_type, ty.to_type)
    if base is None:
        return
    if ty.type_id != base.type_id and limit > limits.get(base.type_id, MAX_TO_OBJECT_IDS):
        raise ValidationError(
            f"The limit of label {ty.type_id} must be at most {limits[base.type_id]}, the "
            f"limit of every association from {ty.from_type} to {ty.to_type}.")
    if ty.type_id == base.type_id:
        highest = max((n for tid, n in limits.items() if tid != base.type_id), default=0)
        if limit < highest:
            raise ValidationError(
                f"The limit of every association from {ty.from_type} to {ty.to_type} must be "
                f"at least {highest}, the highest limit of one of its labels.")
