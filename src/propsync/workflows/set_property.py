"""The set-property action for a batch of enrollments at the same action, as one write.

Each enrollment's value is read (a static value, the enrolled record's property, or a
property of the record a data source fetches), its targets found (the enrolled record,
or every live record associated with it by one type), and a copied value kept only
where the target's value is not newer (the last write wins). What is left is written by
``storage/records.write_values`` — history, ``updatedAt``, unique values and the change
feed as for any write — with the flow as the history's source. A workflow never writes a
sync property, nor a calculated one: the run fails, saying so.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from propsync.domain.errors import ConflictError, ValidationError
from propsync.domain.properties import PropertyDefinition, StoredValue, normalize_value
from propsync.domain.workflow_rules import Advance, Outcome, Version, advance, copy_wins
from propsync.domain.workflows import (
    FLOW_OBJECT_TYPES,
    EnrolledProperty,
    FetchedProperty,
    SetProperty,
    StaticValue,
)
from propsync.storage.enrollments import EnrollmentRow
from propsync.storage.ids import allocate_id
from propsync.storage.records import ValueWrite, write_values
from propsync.storage.value_versions import keep, versions
from propsync.workflows.values import Held, associated, fetched, held

if TYPE_CHECKING:
    from propsync.workflows.executor import FlowRun


@dataclass(frozen=True)
class Done:
    outcome: Outcome
    detail: str
    written: int = 0
    step: Advance | None = None


class Refusal(Exception):
    """The action cannot run for any enrollment (the run log says why)."""


class Overtaken(Exception):
    """A write committed by another transaction while this one copied made a target newer
    than the copied value: the step rolls back and runs again (on SQLite, where writers
    take turns, it cannot happen)."""


@dataclass
class Intent:
    """What one enrollment would write."""

    row: EnrollmentRow
    value: StoredValue | None = None
    version: Version | None = None  # the copied value's; None: always new
    targets: list[int] = field(default_factory=list)
    outcome: Outcome | None = None  # set when it writes nothing
    detail: str = ""
    newer: int = 0  # targets kept because their value is newer


@dataclass(frozen=True)
class Target:
    object_type: str
    prop: PropertyDefinition
    where: str  # "" for the enrolled record, else "associated <type>"


def apply(run: FlowRun, action: SetProperty, rows: Sequence[EnrollmentRow]) -> list[Done]:
    """Run ``action`` for every enrollment of ``rows``; one result per row, in order."""
    try:
        target = _target(run, action)
        intents = _values(run, action, target, rows)
    except Refusal as exc:
        return [Done(Outcome.FAILED, str(exc)) for _ in rows]
    _find_targets(run, action, intents)
    copy = not isinstance(action.value, StaticValue)
    if copy:
        _drop_newer(run, target, intents)
    written = _write(run, target, intents)
    if copy:
        _check_not_overtaken(run, target, written)
    step = advance(action, run.now_ms)
    return [_done(i, target, written.get(i.row.enrollment_id, 0), action, step)
            for i in intents]


def _target(run: FlowRun, action: SetProperty) -> Target:
    """The object type and property written, or a refusal naming why it cannot be."""
    object_type, where = run.stored.object_type, ""
    if action.target is not None:
        kind = run.schema.association_type(action.target.type_id)
        if kind is None or kind.from_type != object_type:
            raise Refusal(f"association type {action.target.type_id} from "
                          f"{object_type} no longer exists")
        object_type, where = kind.to_type, f"associated {kind.to_type}"
    name = action.property_name
    prop = run.schema.property(object_type, name)
    if prop is None:
        raise Refusal(f"property {name} no longer exists on {object_type}")
    if prop.calculated:
        raise Refusal(f"property {name} is calculated by propsync and cannot be set")
    if run.schema.is_synced(prop.id):
        raise Refusal(f"property {name} of {object_type} is a sync property: it copies its "
                      "value from an associated record, and a workflow never writes one")
    return Target(object_type, prop, where)


def _values(run: FlowRun, action: SetProperty, target: Target,
            rows: Sequence[EnrollmentRow]) -> list[Intent]:
    """Each enrollment's value, as the target property stores it."""
    value = action.value
    if isinstance(value, StaticValue):
        stored = _fit(target.prop, value.text, "the static value")
        return [Intent(row, stored) for row in rows]
    copied, what = _copied(run, value, rows)
    intents = []
    for row in rows:
        intent = Intent(row)
        found = copied.get(row.record_id)
        if found is None:
            intent.outcome, intent.detail = Outcome.SKIPPED, f"{what} has no value"
        else:
            try:
                intent.value = _fit(target.prop, found.text, what)
                intent.version = found.version
            except Refusal as exc:
                intent.outcome, intent.detail = Outcome.FAILED, str(exc)
        intents.append(intent)
    return intents


def _copied(run: FlowRun, value: EnrolledProperty | FetchedProperty,
            rows: Sequence[EnrollmentRow]) -> tuple[dict[int, Held], str]:
    """``{enrolled record: the value it copies}``, and the copied property in words."""
    enrolled = [r.record_id for r in rows]
    if isinstance(value, EnrolledProperty):
        object_type = run.stored.object_type
        prop = _readable(run, object_type, value.name)
        return held(run.conn, run.account_id, object_type, enrolled, prop), value.name
    source = run.stored.flow.sources[value.source]
    object_type = FLOW_OBJECT_TYPES[source.object_type_id]
    prop = _readable(run, object_type, value.name)
    chosen = fetched(run.conn, run.account_id, enrolled, source.type_id, source.last_created)
    values = held(run.conn, run.account_id, object_type, set(chosen.values()), prop)
    return ({rid: values[src] for rid, src in chosen.items() if src in values},
            f"{value.name} of the {'last' if source.last_created else 'first'} created "
            f"associated {object_type} ({value.source})")


def _readable(run: FlowRun, object_type: str, name: str) -> PropertyDefinition:
    prop = run.schema.property(object_type, name)
    if prop is None:
        raise Refusal(f"property {name} no longer exists on {object_type}")
    return prop


def _fit(prop: PropertyDefinition, text: str, what: str) -> StoredValue | None:
    """``text`` as ``prop`` stores it. The refusal names the error's code, not its
    message: the message may quote the value, which the run log never shows."""
    try:
        return normalize_value(prop, text)
    except ValidationError as exc:
        code = exc.details[0].code if exc.details else "INVALID_VALUE"
        raise Refusal(f"{what} is not a valid value of {prop.name} ({prop.type}: "
                      f"{code})") from None


def _find_targets(run: FlowRun, action: SetProperty, intents: list[Intent]) -> None:
    if action.target is None:
        for i in intents:
            i.targets = [i.row.record_id]
        return
    links = associated(run.conn, run.account_id, [i.row.record_id for i in intents],
                       action.target.type_id)
    for i in intents:
        i.targets = links.get(i.row.record_id, [])


def _drop_newer(run: FlowRun, target: Target, intents: list[Intent]) -> None:
    """Keep, of each copy's targets, those whose value is not newer than the copied one."""
    wanted = {rid for i in intents if i.outcome is None for rid in i.targets}
    current = versions(run.conn, run.account_id, wanted, target.prop.id)
    for i in intents:
        if i.outcome is None:
            kept = [rid for rid in i.targets if copy_wins(i.version, current.get(rid))]
            i.newer = len(i.targets) - len(kept)
            i.targets = kept


@dataclass
class Written:
    """What a batch wrote: values changed per enrollment, and each changed target's new
    version."""

    counts: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    versions: dict[int, Version] = field(default_factory=dict)

    def get(self, enrollment_id: int, default: int = 0) -> int:
        return self.counts.get(enrollment_id, default)


def _write(run: FlowRun, target: Target, intents: list[Intent]) -> Written:
    """Write every intent's value; where several enrollments write one target, the newest
    copied value. Each changed value keeps its version: a copy the copied value's, any
    other a new one."""
    owner: dict[int, Intent] = {}
    for i in intents:
        if i.outcome is not None:
            continue
        for rid in i.targets:
            held_by = owner.get(rid)
            if held_by is None or _newer(i, held_by):
                owner[rid] = i
    fresh = (run.now_ms, allocate_id(run.conn, "history")) if owner else (0, 0)
    try:
        with run.conn.begin_nested():
            written = _write_owned(run, target, owner, fresh)
    except ConflictError:
        written = _write_one_by_one(run, target, owner, fresh)
    keep(run.conn, run.account_id, target.prop.id, written.versions)
    return written


def _newer(a: Intent, b: Intent) -> bool:
    big = (1 << 62, 1 << 62)
    return (a.version or big, a.row.enrollment_id) > (b.version or big, b.row.enrollment_id)


def _write_owned(run: FlowRun, target: Target, owner: dict[int, Intent], fresh: Version
                 ) -> Written:
    writes: list[ValueWrite] = [(rid, target.prop.id, i.value) for rid, i in owner.items()]
    changes = write_values(run.conn, run.account_id, target.object_type, writes, run.source,
                           run.now_ms)
    written = Written()
    for change in changes:
        i = owner[change.record_id]
        written.counts[i.row.enrollment_id] += 1
        written.versions[change.record_id] = i.version or fresh
    return written


def _write_one_by_one(run: FlowRun, target: Target, owner: dict[int, Intent],
                      fresh: Version) -> Written:
    """After a unique value conflict: each enrollment's writes on their own, so that only
    the enrollments whose value another record holds fail."""
    by_intent: dict[int, dict[int, Intent]] = defaultdict(dict)
    for rid, i in owner.items():
        by_intent[i.row.enrollment_id][rid] = i
    written = Written()
    for owned in by_intent.values():
        try:
            with run.conn.begin_nested():
                done = _write_owned(run, target, owned, fresh)
            written.counts.update(done.counts)
            written.versions.update(done.versions)
        except ConflictError:
            i = next(iter(owned.values()))
            i.outcome = Outcome.FAILED
            i.detail = (f"another record already holds this value of {target.prop.name}, "
                        "whose values are unique")
    return written


def _check_not_overtaken(run: FlowRun, target: Target, written: Written) -> None:
    """A write that committed between the read of the targets' versions and this step's
    write (which waited for it, then wrote over it; PostgreSQL) may be newer than the
    copied value: then the copy must not stand, and ``Overtaken`` rolls the step back."""
    if not written.versions:
        return
    now = versions(run.conn, run.account_id, list(written.versions), target.prop.id)
    for rid, version in written.versions.items():
        if now.get(rid, version) > version:
            raise Overtaken(f"record {rid} was written while a copy to it ran")


def _done(i: Intent, target: Target, written: int, action: SetProperty, step: Advance
          ) -> Done:
    if i.outcome is Outcome.FAILED:
        return Done(Outcome.FAILED, i.detail)
    if i.outcome is Outcome.SKIPPED:
        return Done(Outcome.SKIPPED, i.detail, step=step)
    name = action.property_name
    if not target.where:
        detail = (f"set {name}" if written else
                  f"kept {name}: its value is newer than the copied one" if i.newer else
                  f"{name} already had this value")
    elif not i.targets and not i.newer:
        detail = f"no {target.where} to set {name} on"
    else:
        total = len(i.targets) + i.newer
        same = total - written - i.newer  # already had it (or took a newer copy at once)
        notes = [f"{i.newer} kept a newer value"] if i.newer else []
        notes += [f"{same} already had it"] if same else []
        detail = f"set {name} on {written} of {total} {target.where}" + (
            f" ({', '.join(notes)})" if notes else "")
    return Done(Outcome.DONE if written else Outcome.SKIPPED, detail, written, step)
