"""Property definitions, their access rules, and how a raw value becomes a stored one."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from propsync.domain.errors import ErrorDetail, ValidationError
from propsync.domain.text import unstorable

TYPES = ("string", "number", "date", "datetime", "enumeration", "bool")
FIELD_TYPES: dict[str, tuple[str, ...]] = {
    "string": ("text", "textarea", "file"),
    "number": ("number", "calculation_equation"),
    "date": ("date",),
    "datetime": ("date",),
    "enumeration": ("select", "radio", "checkbox", "booleancheckbox"),
    "bool": ("booleancheckbox", "select", "radio"),
}
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,99}$")


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    display_order: int = 0
    hidden: bool = False
    description: str = ""


@dataclass(frozen=True)
class AccessRule:
    """Who may view and who may edit a property's values.

    ``None`` means everyone; otherwise only the listed users and members of the
    listed teams. Anyone who may not view a value may not edit it either.
    """

    view_users: frozenset[int] | None = None
    view_teams: frozenset[int] | None = None
    edit_users: frozenset[int] | None = None
    edit_teams: frozenset[int] | None = None

    @property
    def is_restricted(self) -> bool:
        return self.view_restricted or self.edit_restricted

    @property
    def view_restricted(self) -> bool:
        return self.view_users is not None or self.view_teams is not None

    @property
    def edit_restricted(self) -> bool:
        return self.edit_users is not None or self.edit_teams is not None

    def can_view(self, user_id: int, team_ids: frozenset[int]) -> bool:
        return _admits(self.view_users, self.view_teams, user_id, team_ids)

    def can_edit(self, user_id: int, team_ids: frozenset[int]) -> bool:
        return self.can_view(user_id, team_ids) and _admits(
            self.edit_users, self.edit_teams, user_id, team_ids
        )

    @property
    def admits_nobody(self) -> bool:
        """A side (view or edit) is restricted but names no user and no team."""
        return _names_nobody(self.view_users, self.view_teams) or _names_nobody(
            self.edit_users, self.edit_teams)

    @property
    def user_ids(self) -> frozenset[int]:
        """Every user the rule names, on either side."""
        return (self.view_users or frozenset()) | (self.edit_users or frozenset())

    @property
    def team_ids(self) -> frozenset[int]:
        """Every team the rule names, on either side."""
        return (self.view_teams or frozenset()) | (self.edit_teams or frozenset())


def _admits(
    users: frozenset[int] | None, teams: frozenset[int] | None, user: int,
    user_teams: frozenset[int],
) -> bool:
    if users is None and teams is None:
        return True
    return user in (users or frozenset()) or bool((teams or frozenset()) & user_teams)


def _names_nobody(users: frozenset[int] | None, teams: frozenset[int] | None) -> bool:
    restricted = users is not None or teams is not None
    return restricted and not (users or teams)


EVERYONE = AccessRule()


@dataclass(frozen=True)
class PropertyDefinition:
    """One property of one object type in one account."""

    id: int
    object_type: str
    name: str
    label: str
    type: str
    field_type: str
    group_name: str
    description: str = ""
    options: tuple[Option, ...] = ()
    display_order: int = -1
    hidden: bool = False
    has_unique_value: bool = False
    hubspot_defined: bool = False
    calculated: bool = False
    access: AccessRule = field(default=EVERYONE)
    created_ms: int = 0
    updated_ms: int = 0

    @property
    def is_numeric(self) -> bool:
        """Values compare as numbers (numbers, and dates as epoch milliseconds)."""
        return self.type in ("number", "date", "datetime")

    @property
    def read_only_value(self) -> bool:
        return self.calculated


@dataclass(frozen=True)
class StoredValue:
    """A value as stored: its canonical text and, for ordered types, a number to compare."""

    text: str
    number: float | None


def normalize_value(prop: PropertyDefinition, raw: object) -> StoredValue | None:
    """The canonical stored form of ``raw`` for ``prop``; ``None`` clears the value.

    Raises ``ValidationError`` (code ``INVALID_OPTION`` / ``INVALID_INTEGER`` /
    ``INVALID_DATE`` / ``INVALID_BOOLEAN``) when ``raw`` does not fit the type, and
    ``INVALID_VALUE`` for text no store can hold (``domain/text.py``). A date or date-time
    must fall within years 1-9999 once in UTC (what the API can write back).
    """
    if raw is None:
        return None
    if isinstance(raw, bool):
        text = "true" if raw else "false"
    elif isinstance(raw, (int, float, str)):
        text = str(raw)
    else:
        raise _invalid(prop, raw, "INVALID_VALUE", "a string, number or boolean")
    if text == "":
        return None
    reason = unstorable(text)
    if reason is not None:
        message = f"The value of property {prop.name!r} {reason}."
        raise ValidationError(message, [ErrorDetail(message, code="INVALID_VALUE",
                                                    context={"propertyName": [prop.name]})])
    return _NORMALIZERS[prop.type](prop, text)


def _string(prop: PropertyDefinition, text: str) -> StoredValue:
    if len(text) > 65536:
        raise _invalid(prop, text[:40] + "...", "INVALID_VALUE", "at most 65,536 characters")
    return StoredValue(text, None)


def _number(prop: PropertyDefinition, text: str) -> StoredValue:
    try:
        number = float(text.strip())
    except ValueError:
        raise _invalid(prop, text, "INVALID_INTEGER", "a number") from None
    if not math.isfinite(number):
        raise _invalid(prop, text, "INVALID_INTEGER", "a finite number")
    canonical = str(int(number)) if number.is_integer() and abs(number) < 2**53 else repr(number)
    return StoredValue(canonical, number)


def _date(prop: PropertyDefinition, text: str) -> StoredValue:
    moment = _parse_moment(prop, text)
    day = moment.date()
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return StoredValue(day.isoformat(), midnight.timestamp() * 1000)


def _datetime(prop: PropertyDefinition, text: str) -> StoredValue:
    moment = _parse_moment(prop, text)
    ms = round(moment.timestamp() * 1000)
    if ms > MAX_MS:  # rounded up past the last millisecond of 9999
        raise _out_of_range(prop, text)
    return StoredValue(format_ms(ms), float(ms))


# The last millisecond the API can write back (format_ms): 9999-12-31T23:59:59.999Z.
MAX_MS = round(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp() * 1000) + 999


def _parse_moment(prop: PropertyDefinition, text: str) -> datetime:
    """``text`` as an aware moment that is within years 1-9999 in UTC too."""
    stripped = text.strip()
    try:
        if re.fullmatch(r"-?\d{1,15}", stripped):
            return datetime.fromtimestamp(int(stripped) / 1000, tz=UTC)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", stripped):
            parsed = date.fromisoformat(stripped)
            return datetime(parsed.year, parsed.month, parsed.day, tzinfo=UTC)
        moment = datetime.fromisoformat(stripped.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        raise _invalid(prop, text, "INVALID_DATE", "a date (YYYY-MM-DD), an ISO-8601 "
                       "date-time or milliseconds since 1970") from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:  # "9999-12-31T23:59:59-01:00" is in year 10000 once in UTC
        moment.astimezone(UTC)
    except OverflowError:
        raise _out_of_range(prop, text) from None
    return moment


def _out_of_range(prop: PropertyDefinition, text: str) -> ValidationError:
    return _invalid(prop, text, "INVALID_DATE",
                    "a moment between 0001-01-01 and 9999-12-31 in UTC")


def _enumeration(prop: PropertyDefinition, text: str) -> StoredValue:
    allowed = {o.value for o in prop.options}
    chosen = text.split(";") if prop.field_type == "checkbox" else [text]
    wrong = [c for c in chosen if c not in allowed]
    if wrong:
        listed = ", ".join(sorted(allowed)) or "(none defined)"
        raise _invalid(prop, wrong[0], "INVALID_OPTION", f"one of the options: {listed}")
    return StoredValue(";".join(chosen), None)


def _bool(prop: PropertyDefinition, text: str) -> StoredValue:
    lowered = text.strip().lower()
    if lowered not in ("true", "false"):
        raise _invalid(prop, text, "INVALID_BOOLEAN", "true or false")
    return StoredValue(lowered, None)


_NORMALIZERS = {
    "string": _string,
    "number": _number,
    "date": _date,
    "datetime": _datetime,
    "enumeration": _enumeration,
    "bool": _bool,
}


def _invalid(prop: PropertyDefinition, raw: object, code: str, expected: str) -> ValidationError:
    message = f"{raw!r} is not a valid value for property {prop.name!r}: expected {expected}."
    return ValidationError(
        message,
        [ErrorDetail(message, code=code, context={"propertyName": [prop.name]})],
    )


def renormalize(
    prop: PropertyDefinition, stored: Iterable[tuple[int, str]]
) -> tuple[list[tuple[int, StoredValue]], list[tuple[int, str]]]:
    """Re-read stored values under a changed definition ``prop``.

    Returns the converted ``(record id, value)`` pairs and the ``(record id, text)``
    pairs that do not fit ``prop`` (a non-number for a number, a removed option, ...).
    """
    converted: list[tuple[int, StoredValue]] = []
    misfits: list[tuple[int, str]] = []
    for record_id, text in stored:
        try:
            value = normalize_value(prop, text)
        except ValidationError:
            misfits.append((record_id, text))
            continue
        if value is not None:
            converted.append((record_id, value))
    return converted, misfits


def format_ms(ms: int) -> str:
    """Epoch milliseconds as ISO-8601 UTC with milliseconds and ``Z``."""
    moment = datetime.fromtimestamp(ms // 1000, tz=UTC)
    # isoformat, not strftime: glibc's %Y writes the year 1 as "1", not "0001".
    return moment.isoformat(timespec="seconds").removesuffix("+00:00") + f".{ms % 1000:03d}Z"
