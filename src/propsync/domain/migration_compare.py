"""Why a clone differs from its original, in words (pure): the migration's step 5.

A list or report cloned with the sync property in the copy property's place should
count the same records. Where it does not, each record that differs is explained: most
often a stale copy (the copy property holds a value the sync value no longer agrees
with), else something about the lists themselves (one still being evaluated, members
added by hand). Differences are shown, never hidden.
"""

from __future__ import annotations

from dataclasses import dataclass

STALE_COPY = "STALE_COPY"  # the two values differ
PROCESSING = "LIST_PROCESSING"  # a list's members are not final yet
NOT_BY_FILTER = "MEMBERS_NOT_BY_FILTER"  # a MANUAL or SNAPSHOT list's members
OTHER = "OTHER"  # the values agree: another part of the definitions decides

_SHOWN = 80  # characters of a value quoted in an explanation


@dataclass(frozen=True)
class Side:
    """One list of the comparison as its explanation needs it."""

    list_id: int
    processing_type: str  # DYNAMIC / MANUAL / SNAPSHOT
    status: str  # PROCESSING / COMPLETE


@dataclass(frozen=True)
class Explanation:
    reason: str
    text: str


def shown(value: str | None) -> str:
    if value is None:
        return "no value"
    return repr(value if len(value) <= _SHOWN else value[:_SHOWN] + "…")


def values_differ(old_label: str, old: str | None, new_label: str, new: str | None) -> str:
    """"Company name (copy) = 'Acme' but the sync value (Company name) is 'Acme Inc'"."""
    return (f"{old_label} = {shown(old)} but {new_label}, the value in its place, "
            f"{'has no value' if new is None else '= ' + shown(new)}")


def explain_member(in_original: bool, original: Side, clone: Side,
                   labels: tuple[str, str] | None, old: str | None, new: str | None
                   ) -> Explanation:
    """Why a record is a member of one list only (``in_original``: of the original).
    ``labels``: the replaced property's and its replacement's labels, when the caller may
    be shown their values (``old``, ``new``)."""
    has, lacks = (original, clone) if in_original else (clone, original)
    if labels is not None and old != new:
        return Explanation(STALE_COPY, values_differ(labels[0], old, labels[1], new) +
                           ": a stale copy, which the sync value corrects.")
    for side in (lacks, has):
        if side.status != "COMPLETE":
            return Explanation(PROCESSING, f"List {side.list_id} is still being evaluated "
                               "(PROCESSING): compare again once it is COMPLETE.")
    for side in (has, lacks):
        if side.processing_type != "DYNAMIC":
            how = "by hand" if side.processing_type == "MANUAL" else "once, when it was made"
            return Explanation(NOT_BY_FILTER, f"List {side.list_id} is a "
                               f"{side.processing_type} list: its members were chosen {how}, "
                               "not by its filter now.")
    if labels is not None:
        return Explanation(OTHER, f"{labels[0]} and {labels[1]} agree here "
                           f"({shown(old)}): another part of the lists' filters differs.")
    return Explanation(OTHER, "The lists' filters differ in more than one property's place.")


def explain_move(labels: tuple[str, str] | None, counted_first: bool, key_first: str | None,
                 counted_second: bool, key_second: str | None, old: str | None,
                 new: str | None) -> Explanation:
    """Why a record is counted differently by a report and its clone."""
    where = _where(counted_first, key_first) + " in the original, " + \
        _where(counted_second, key_second) + " in the clone"
    if labels is not None and old != new:
        return Explanation(STALE_COPY, f"{where}: {values_differ(labels[0], old, labels[1], new)}"
                           " (a stale copy).")
    if labels is not None:
        return Explanation(OTHER, f"{where}: {labels[0]} and {labels[1]} agree "
                           f"({shown(old)}); another part of the definitions differs.")
    return Explanation(OTHER, f"{where}: the definitions differ in more than one "
                       "property's place.")


def _where(counted: bool, key: str | None) -> str:
    if not counted:
        return "not counted"
    return "under (no value)" if key is None else f"under {shown(key)}"
