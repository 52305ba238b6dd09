"""The migration assistant's scan (pure): which workflows copy a property value across an
association, and which of those a sync property could replace.

``classify`` reads one workflow — a parsed ``Flow``, or raw Automation v4 JSON (the output
of ``GET /automation/v4/flows/{id}`` on a HubSpot portal) that ``parse_flow`` may refuse —
into a ``Verdict``; nothing escapes as an exception. ``pair_two_way`` then marks the pairs
of verdicts that copy the same two properties in opposite directions (a two-way sync,
which a sync property cannot do: listed, explained, left alone). ``scan`` does both.

The kinds (``Kind``):

- ``ONE_WAY_COPY``: the workflow does one thing, copy one property of an associated record
  into the enrolled record (copy "from": an ``ASSOCIATION`` data source, first or last
  created, and a set-property action with the fetched value), or copy the enrolled
  record's property into its associated records of one type (copy "to"), for every record
  and whenever the copied property changes. ``proposal`` is the sync property that
  replaces it; ``notes`` say what the sync property does better (it follows every change).
- ``CONDITIONAL_COPY``: the same copy with extra conditions — enrollment filters beyond
  "the copied property is known", enrollment by hand, branches, delays, a copy "to" that
  does not re-enroll when the copied value changes. ``differences`` say, each in an
  administrator's words, what a sync property would do differently; the service counts
  the records concerned (``Difference.groups``: who the conditions let through).
- ``TWO_WAY``: two workflows copying the same pair of properties in opposite directions.
- ``NOT_A_COPY``: no copy across an association (a static value, a copy within the
  record, several properties written...), with the reasons.
- ``NOT_CONVERTIBLE``: a copy a sync property cannot express (an association type or
  label it cannot select, a source it may not copy, a target of a type whose values do
  not compare with the source's), or a definition propsync cannot read (``parse_flow``'s
  message).

Schema facts (property types, access, association labels) come from a ``SchemaView``; a
scan without one (``schema=None``) judges the workflow's shape alone and says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from propsync.domain.associations import BUILT_IN_TYPES, CATEGORIES, AssociationType
from propsync.domain.errors import PropsyncError
from propsync.domain.filters import Filter
from propsync.domain.properties import PropertyDefinition
from propsync.domain.sync_rule import Selection
from propsync.domain.usage import incompatible
from propsync.domain.workflows import (
    FLOW_OBJECT_TYPES,
    AssociationSource,
    Delay,
    EnrolledProperty,
    FetchedProperty,
    Flow,
    SetProperty,
    StaticBranch,
    StaticValue,
    parse_flow,
    successors,
)

# Properties every live record has: a filter that they are known admits every record.
ALWAYS_KNOWN = frozenset({"hs_object_id", "createdate", "hs_createdate", "lastmodifieddate"})
MAX_REACH_GROUPS = 100  # beyond this many OR-ed groups, records are not counted


class Kind(StrEnum):
    ONE_WAY_COPY = "ONE_WAY_COPY"
    CONDITIONAL_COPY = "CONDITIONAL_COPY"
    TWO_WAY = "TWO_WAY"
    NOT_A_COPY = "NOT_A_COPY"
    NOT_CONVERTIBLE = "NOT_CONVERTIBLE"


class Direction(StrEnum):
    FROM = "FROM"  # the enrolled record copies from an associated record (a data source)
    TO = "TO"  # the enrolled record writes its value into its associated records


@dataclass(frozen=True)
class Copy:
    """The one copy a workflow makes, read from its shape alone.

    ``target_type``/``target_property``: where the value lands (the "old" property the
    sync property replaces); ``source_type``/``source_property``: what is copied;
    ``via``: the association type the workflow goes through (enrolled type → the other
    end); ``last_created``: copy "from" only, the data source's sort."""

    action_id: str
    direction: Direction
    enrolled_type: str
    target_type: str | None  # None: a copy "to" through a type the scan cannot resolve
    target_property: str
    source_type: str
    source_property: str
    via_category: str
    via_type_id: int
    last_created: bool


@dataclass(frozen=True)
class SyncProposal:
    """The sync property that replaces a copy: what ``services/sync_properties.
    create_sync_property`` takes (target type, and a ``SourceRequest`` of
    ``source_type``, ``source_property``, ``association_types``, ``selection``)."""

    target_type: str
    target_property: str  # the workflow's copy, which stays (the "old" property)
    source_type: str
    source_property: str
    association_types: tuple[tuple[str, int], ...]  # (category, type id), target → source
    labels: tuple[str, ...]  # the labels of those types ("Primary", "Unlabeled", ...)
    selection: Selection
    direction: Direction


@dataclass(frozen=True)
class Difference:
    """What a sync property would do differently from the workflow, in words; ``code``
    names the kind (``ENROLLMENT_FILTER``, ``MANUAL_ENROLLMENT``, ``BRANCH``, ``DELAY``,
    ``COPIES_ONCE``). ``counted``: whether the service counts the records it concerns
    (those the sync property would set that the workflow's conditions exclude)."""

    code: str
    text: str
    counted: bool = False


@dataclass(frozen=True)
class Verdict:
    """One workflow judged. ``reasons``: why it is not a copy or not convertible, or why
    it is left alone (a two-way pair); ``differences``: a conditional copy's conditions;
    ``notes``: what the sync property does better in any case. ``reach``: for a
    conditional copy, the enrolled records whose copy the workflow makes (an OR of AND
    groups of search filters on the enrolled type, ``reach_groups``; ``None``: not
    countable — too many groups, or ``manual``: only records enrolled by hand)."""

    kind: Kind
    name: str
    object_type: str | None  # the enrolled type; None when the JSON does not say
    copy: Copy | None = None
    proposal: SyncProposal | None = None
    reasons: tuple[str, ...] = ()
    differences: tuple[Difference, ...] = ()
    notes: tuple[str, ...] = ()
    reach: tuple[tuple[Filter, ...], ...] | None = None
    manual: bool = False
    partner: str | None = None  # TWO_WAY: the key of the other workflow of the pair
    enabled: bool = False

    @property
    def candidate(self) -> bool:
        """Could a sync property replace it (with or without differences)?"""
        return self.kind in (Kind.ONE_WAY_COPY, Kind.CONDITIONAL_COPY)


@dataclass(frozen=True)
class SchemaView:
    """What the scan knows of an account: its properties by object type and name (each
    type present is known whole; a missing name is an unknown property), its association
    types, and which properties are sync properties."""

    properties: Mapping[str, Mapping[str, PropertyDefinition]]
    association_types: Mapping[int, AssociationType] = field(default_factory=dict)
    synced: frozenset[tuple[str, str]] = frozenset()

    def prop(self, object_type: str, name: str) -> PropertyDefinition | None:
        return self.properties.get(object_type, {}).get(name)

    def label(self, object_type: str, name: str) -> str:
        found = self.prop(object_type, name)
        return found.label if found is not None and found.label else name


# --- one workflow ------------------------------------------------------------------------

def classify(flow: Flow | Mapping[str, Any], schema: SchemaView | None = None) -> Verdict:
    """One workflow's verdict; a definition ``parse_flow`` refuses is ``NOT_CONVERTIBLE``
    with ``parse_flow``'s message as the reason (never an exception)."""
    if not isinstance(flow, Flow):
        name, object_type = _raw_name(flow), _raw_type(flow)
        try:
            flow = parse_flow(flow)
        except PropsyncError as exc:
            return Verdict(Kind.NOT_CONVERTIBLE, name, object_type,
                           reasons=(f"propsync cannot read this workflow: {exc.message}",))
        except (TypeError, ValueError, RecursionError, AttributeError):
            return Verdict(Kind.NOT_CONVERTIBLE, name, object_type,
                           reasons=("propsync cannot read this workflow: it is not a flow "
                                    "definition in Automation v4's shape.",))
    base = Verdict(Kind.NOT_A_COPY, flow.name, flow.object_type, enabled=flow.enabled)
    found = find_copy(flow, schema)
    if isinstance(found, tuple):
        return replace(base, reasons=found)
    base = replace(base, copy=found)
    if not _paths_to(flow, found.action_id):
        return replace(base, copy=None, reasons=(
            "Its copy is never reached: no path of actions leads to it.",))
    refusal = _inexpressible(found, schema)
    if refusal:
        return replace(base, kind=Kind.NOT_CONVERTIBLE, reasons=refusal)
    proposal = _proposal(found, schema)
    differences = _conditions(flow, found, schema)
    kind = Kind.CONDITIONAL_COPY if differences else Kind.ONE_WAY_COPY
    manual = flow.enrollment.kind == "MANUAL"
    reach = reach_groups(flow, found.action_id) if differences and not manual else None
    notes = _notes(found, schema, flow)
    if schema is None:
        notes += ("The account's schema was not checked: whether the properties and "
                  "association types exist and fit is not known yet.",)
    return replace(base, kind=kind, proposal=proposal, differences=differences, notes=notes,
                   reach=reach if differences else None, manual=manual and bool(differences))


def find_copy(flow: Flow, schema: SchemaView | None = None) -> Copy | tuple[str, ...]:
    """The workflow's one copy across an association, or why it is not one."""
    sets = [a for a in flow.actions.values() if isinstance(a, SetProperty)]
    if not sets:
        return ("It sets no property value.",)
    copies = [a for a in sets if _crosses(a)]
    if not copies:
        return tuple(_why_not(a) for a in sets)
    written = sorted({(a.target is not None, a.property_name) for a in sets})
    if len(sets) > 1:
        names = ", ".join(name for _, name in written)
        return (f"It writes {len(sets)} values ({names}); a sync property replaces a "
                "workflow that makes exactly one copy, so keep this workflow.",)
    action = copies[0]
    if isinstance(action.value, FetchedProperty):
        src: AssociationSource = flow.sources[action.value.source]
        source_type = FLOW_OBJECT_TYPES[src.object_type_id]
        if action.target is not None:
            return ("It copies an associated record's value into other associated records; "
                    "a sync property copies into the record it belongs to.",)
        return Copy(action.action_id, Direction.FROM, flow.object_type, flow.object_type,
                    action.property_name, source_type, action.value.name, src.category,
                    src.type_id, src.last_created)
    assert isinstance(action.value, EnrolledProperty) and action.target is not None
    ty = _association_type(action.target.type_id, schema)
    target_type = ty.to_type if ty is not None and ty.from_type == flow.object_type else None
    return Copy(action.action_id, Direction.TO, flow.object_type, target_type,
                action.property_name, flow.object_type, action.value.name,
                action.target.category, action.target.type_id, False)


def _crosses(a: SetProperty) -> bool:
    return isinstance(a.value, FetchedProperty) or (
        isinstance(a.value, EnrolledProperty) and a.target is not None)


def _why_not(a: SetProperty) -> str:
    if isinstance(a.value, StaticValue):
        where = "associated records'" if a.target is not None else "record's"
        return (f"It sets the {where} {a.property_name} to a fixed value, copying nothing.")
    return (f"It copies {getattr(a.value, 'name', '?')} into {a.property_name} within the "
            "same record, not across an association.")


def _association_type(type_id: int, schema: SchemaView | None) -> AssociationType | None:
    if schema is not None and type_id in schema.association_types:
        return schema.association_types[type_id]
    return BUILT_IN_TYPES.get(type_id)


def _inverse(c: Copy, schema: SchemaView | None) -> AssociationType | None:
    """The association type from the sync property's target to its source."""
    ty = _association_type(c.via_type_id, schema)
    if ty is None:
        return None
    if c.direction is Direction.FROM:
        return ty
    return _association_type(ty.inverse_id, schema)


def _inexpressible(c: Copy, schema: SchemaView | None) -> tuple[str, ...]:
    """Why a sync property cannot make this copy (empty: it can)."""
    out: list[str] = []
    ty = _association_type(c.via_type_id, schema)
    if c.via_category not in CATEGORIES:
        out.append(f"It goes through a {c.via_category} association type ({c.via_type_id}); "
                   "a sync property selects HubSpot-defined types and your own labels only.")
    elif ty is None or ty.category != c.via_category:
        out.append(f"Its association type {c.via_category} {c.via_type_id} does not exist in "
                   "this account, so a sync property cannot select it.")
    else:
        out += _association_fit(c, ty, _inverse(c, schema))
    if schema is not None:
        out += _property_fit(c, schema)
    return tuple(out)


def _association_fit(c: Copy, ty: AssociationType, inverse: AssociationType | None
                     ) -> list[str]:
    if ty.from_type != c.enrolled_type:
        return [f"Its association type {c.via_type_id} goes from {ty.from_type}, not from "
                f"the enrolled {c.enrolled_type}."]
    if c.direction is Direction.FROM and ty.to_type != c.source_type:
        return [f"Its data source reads {c.source_type} through an association type that "
                f"leads to {ty.to_type}."]
    if inverse is None:
        return [f"The association type {c.via_type_id} has no inverse in this account."]
    if inverse.from_type == inverse.to_type and inverse.is_default:
        return [f"It copies between two {inverse.from_type} records through their unlabeled "
                "association; a sync property copies from another record of its own type "
                "only through a label (such as 'Parent company')."]
    return []


def _property_fit(c: Copy, schema: SchemaView) -> list[str]:
    out: list[str] = []
    source = schema.prop(c.source_type, c.source_property)
    if source is None:
        out.append(f"unknown property: {c.source_type} has no property "
                   f"{c.source_property!r} in this account.")
    elif source.access.is_restricted:
        out.append(f"{c.source_type}.{c.source_property} has restricted access; a sync "
                   "property is visible to everyone, so it cannot copy restricted data.")
    elif source.calculated:
        out.append(f"{c.source_type}.{c.source_property} is calculated; a sync property "
                   "copies stored properties only.")
    if c.target_type is None:
        return out
    target = schema.prop(c.target_type, c.target_property)
    if target is None:
        out.append(f"unknown property: {c.target_type} has no property "
                   f"{c.target_property!r} in this account.")
    elif (c.target_type, c.target_property) in schema.synced:
        out.append(f"{c.target_type}.{c.target_property} is already a sync property.")
    elif source is not None:
        # The sync property takes the source's type; it must compare like the copy it
        # replaces, or lists, reports and workflows cannot be cloned onto it.
        twin = replace(source, id=-1, object_type=c.target_type)
        reason = incompatible(target, twin)
        if reason is not None:
            out.append(f"{c.target_type}.{c.target_property} holds {target.type} values and "
                       f"the copied {c.source_type}.{c.source_property} {source.type} values: "
                       "a sync property takes its source's type, so the lists, reports and "
                       "workflows reading the copy could not use it instead.")
    return out


def _proposal(c: Copy, schema: SchemaView | None) -> SyncProposal | None:
    inverse = _inverse(c, schema)
    if c.target_type is None or inverse is None:
        return None
    label = inverse.label or "Unlabeled"
    selection = Selection.LAST_CREATED if c.last_created else Selection.FIRST_CREATED
    return SyncProposal(c.target_type, c.target_property, c.source_type, c.source_property,
                        ((inverse.category, inverse.type_id),), (label,), selection,
                        c.direction)


# --- conditions ----------------------------------------------------------------------------

def _conditions(flow: Flow, c: Copy, schema: SchemaView | None) -> tuple[Difference, ...]:
    """What limits the copy, each in words."""
    out: list[Difference] = []
    enrolled = _plural(flow.object_type)
    target = _plural(c.target_type or "records")
    e = flow.enrollment
    manual = e.kind == "MANUAL"
    if manual:
        out.append(Difference(
            "MANUAL_ENROLLMENT", f"The workflow copies only for the {enrolled} someone enrolls "
            f"by hand; a sync property copies for every {_one(target)}.", counted=True))
    kept = _kept_groups(e.groups, c)
    if kept:
        words = " or ".join(" and ".join(_words(f, flow.object_type, schema) for f in g)
                            for g in kept)
        out.append(Difference(
            "ENROLLMENT_FILTER", f"The workflow copies only for {enrolled} with {words}; a "
            f"sync property copies for every {_one(target)}.", counted=True))
    paths = _paths_to(flow, c.action_id)
    for b in _branches_on_way(flow, paths):
        out.append(Difference(
            "BRANCH", f"The workflow copies only on some branches of "
            f"{schema.label(flow.object_type, b.property_name) if schema else b.property_name}"
            f" ({_branch_words(b, paths)}); a sync property copies whatever its value.",
            counted=True))
    delays = [a for a in flow.actions.values() if isinstance(a, Delay)
              and any(a.action_id in p for p in paths)]
    if delays:
        total = max(sum(a.delay_ms for i in p if isinstance(a := flow.actions[i], Delay))
                    for p in paths)
        out.append(Difference(
            "DELAY", f"The workflow waits {_duration(total)} before it copies; a sync "
            "property copies at once."))
    if c.direction is Direction.TO and not (e.should_re_enroll and
                                            c.source_property in e.re_enroll_on):
        out.append(Difference(
            "COPIES_ONCE", f"The workflow copies once, when a {_one(enrolled)} enrolls: a "
            f"later change of its {_label(schema, c.source_type, c.source_property)} is not "
            f"copied. A sync property follows every change."))
    return tuple(out)


def _kept_groups(groups: tuple[tuple[Filter, ...], ...], c: Copy
                 ) -> tuple[tuple[Filter, ...], ...]:
    """The enrollment groups that limit the copy: none when some group admits every
    record that has something to copy (only filters that every record, or every record
    whose copied value is known, passes)."""
    def free(f: Filter) -> bool:
        if f.operator != "HAS_PROPERTY":
            return False
        if f.property_name in ALWAYS_KNOWN:
            return True
        return c.direction is Direction.TO and f.property_name == c.source_property

    if not groups or any(all(free(f) for f in g) for g in groups):
        return ()
    return groups


def _paths_to(flow: Flow, action_id: str) -> list[tuple[str, ...]]:
    """Every path of action ids from the start to ``action_id`` (the graph has no loop);
    at most ``MAX_REACH_GROUPS`` of them."""
    out: list[tuple[str, ...]] = []

    def walk(node: str, path: tuple[str, ...]) -> None:
        if len(out) > MAX_REACH_GROUPS:
            return
        path = (*path, node)
        if node == action_id:
            out.append(path)
            return
        for n in dict.fromkeys(successors(flow.actions[node])):
            walk(n, path)

    if flow.start_action_id is not None:
        walk(flow.start_action_id, ())
    return out


def _branches_on_way(flow: Flow, paths: list[tuple[str, ...]]) -> list[StaticBranch]:
    ids = sorted({i for p in paths for i in p[:-1] if isinstance(flow.actions[i], StaticBranch)})
    return [b for i in ids if isinstance(b := flow.actions[i], StaticBranch)]


def _branch_words(b: StaticBranch, paths: list[tuple[str, ...]]) -> str:
    taken = {p[p.index(b.action_id) + 1] for p in paths if b.action_id in p[:-1]}
    values = [v for v, n in b.branches if n in taken]
    parts = [f"= {v}" for v in values]
    if b.default_next is not None and b.default_next in taken:
        parts.append("any other value")
    return ", ".join(parts) or "none"


def reach_groups(flow: Flow, action_id: str) -> tuple[tuple[Filter, ...], ...] | None:
    """The enrolled records the workflow copies for (an OR of AND groups of search
    filters): its enrollment criteria, and on each path to the copy the branches taken
    (a branch's value: ``EQ``; the default: no value, or ``NOT_IN`` the branches' values).
    ``None`` when it would take more than ``MAX_REACH_GROUPS`` groups to say (or
    enrollment is by hand: nobody is let through by a rule)."""
    if flow.enrollment.kind == "MANUAL":
        return None
    per_path: list[list[tuple[Filter, ...]]] = []
    for path in _paths_to(flow, action_id):
        groups: list[tuple[Filter, ...]] = [()]
        for i, node in enumerate(path[:-1]):
            b = flow.actions[node]
            if not isinstance(b, StaticBranch):
                continue
            nxt = path[i + 1]
            options: list[tuple[Filter, ...]] = [
                (Filter(b.property_name, "EQ", v),) for v, n in b.branches if n == nxt]
            if b.default_next == nxt:
                values = tuple(v for v, _ in b.branches)
                options += [(Filter(b.property_name, "NOT_HAS_PROPERTY"),),
                            (Filter(b.property_name, "NOT_IN", values=values),)]
            groups = [g + o for g in groups for o in options]
            if len(groups) > MAX_REACH_GROUPS:
                return None
        per_path.append(groups)
    branch = [g for groups in per_path for g in groups]
    return _reach(flow.enrollment.groups, branch)


def _reach(enrollment: tuple[tuple[Filter, ...], ...],
           branch: list[tuple[Filter, ...]] | None) -> tuple[tuple[Filter, ...], ...] | None:
    base = list(enrollment) or [()]
    extra = branch if branch is not None else [()]
    combined = [tuple(dict.fromkeys(a + b)) for a in base for b in extra]
    if len(combined) > MAX_REACH_GROUPS:
        return None
    return tuple(combined)


def _notes(c: Copy, schema: SchemaView | None, flow: Flow) -> tuple[str, ...]:
    source = _label(schema, c.source_type, c.source_property)
    one = _one(_plural(c.source_type))
    notes: list[str] = []
    if c.direction is Direction.FROM:
        notes.append(
            f"The workflow copies when a {_one(_plural(flow.object_type))} enrolls; a later "
            f"change of the {one}'s {source}, or a new association, is not copied until it "
            "enrolls again (stale copies, which the plan's dry run counts). A sync property "
            "follows every change.")
    else:
        inverse = _inverse(c, schema)
        if inverse is not None and not inverse.is_primary:
            notes.append(
                f"A {_one(_plural(c.target_type or 'record'))} associated with several "
                f"{_plural(c.source_type)} gets, from the workflow, the value of whichever "
                f"ran last; the sync property takes the first created {one}'s (the plan can "
                "choose the last created instead).")
    notes.append(f"When the {one}'s {source} is cleared, the workflow keeps the old copy; a "
                 "sync property clears it too.")
    return tuple(notes)


# --- several workflows -----------------------------------------------------------------------

def _two_way_words(partner: str | None, mine: tuple[str, str], theirs: tuple[str, str]
                   ) -> str:
    """Why a copy in a two-way pair is left alone, naming its partner."""
    return (f"This workflow copies into {mine[0]}.{mine[1]} from {theirs[0]}.{theirs[1]}, "
            f"and the workflow {partner!r} copies the other way: together a two-way sync. "
            "A sync property copies one way only, so both are left alone.")


def pair_two_way(verdicts: Sequence[tuple[str, Verdict]]) -> list[tuple[str, Verdict]]:
    """Mark the pairs of copies of the same two properties in opposite directions as
    ``TWO_WAY`` (each naming the other by its key); every other verdict is kept. A copy
    paired with several others is paired with the first of them, by key order."""
    def ends(v: Verdict) -> tuple[tuple[str, str], tuple[str, str]] | None:
        c = v.copy
        if c is None or c.target_type is None or v.kind is Kind.NOT_A_COPY:
            return None
        return (c.target_type, c.target_property), (c.source_type, c.source_property)

    out = dict(verdicts)
    paired: set[str] = set()
    for key, v in sorted(verdicts):
        mine = ends(v)
        if mine is None or key in paired:
            continue
        for other, w in sorted(verdicts):
            theirs = ends(w)
            if other == key or other in paired or theirs is None or theirs != mine[::-1]:
                continue
            target, source = mine
            words, back = _two_way_words(w.name, target, source), \
                _two_way_words(v.name, source, target)
            out[key] = replace(v, kind=Kind.TWO_WAY, reasons=(words,), partner=other,
                               proposal=None, differences=(), reach=None)
            out[other] = replace(w, kind=Kind.TWO_WAY, reasons=(back,), partner=key,
                                 proposal=None, differences=(), reach=None)
            paired |= {key, other}
            break
    return [(k, out[k]) for k, _ in verdicts]


def scan(flows: Sequence[tuple[str, Flow | Mapping[str, Any]]],
         schema: SchemaView | None = None) -> list[tuple[str, Verdict]]:
    """Every workflow's verdict, keyed as given, two-way pairs marked."""
    return pair_two_way([(key, classify(flow, schema)) for key, flow in flows])


# --- words ----------------------------------------------------------------------------------

_OPERATOR_WORDS = {"EQ": "=", "NEQ": "≠", "LT": "<", "LTE": "≤", "GT": ">", "GTE": "≥",
                   "IN": "is any of", "NOT_IN": "is none of", "CONTAINS_TOKEN": "contains",
                   "NOT_CONTAINS_TOKEN": "does not contain", "BETWEEN": "between",
                   "NOT_BETWEEN": "not between", "STARTS_WITH": "starts with",
                   "ENDS_WITH": "ends with"}


def _words(f: Filter, object_type: str, schema: SchemaView | None) -> str:
    label = _label(schema, object_type, f.property_name).lower()
    if f.operator == "HAS_PROPERTY":
        return f"a known {label}"
    if f.operator == "NOT_HAS_PROPERTY":
        return f"no {label}"
    op = _OPERATOR_WORDS.get(f.operator, f.operator.lower())
    if f.values:
        return f"{label} {op} {', '.join(f.values)}"
    if f.high_value is not None:
        return f"{label} {op} {f.value} and {f.high_value}"
    return f"{label} {op} {f.value}"


def _label(schema: SchemaView | None, object_type: str, name: str) -> str:
    return schema.label(object_type, name) if schema is not None else name


def _plural(object_type: str) -> str:
    return object_type


def _one(plural: str) -> str:
    return {"companies": "company"}.get(plural, plural[:-1] if plural.endswith("s") else plural)


def _duration(ms: int) -> str:
    for unit, size in (("day", 86_400_000), ("hour", 3_600_000), ("minute", 60_000),
                       ("second", 1_000)):
        if ms >= size and ms % size == 0:
            n = ms // size
            return f"{n} {unit}{'' if n == 1 else 's'}"
    return f"{ms} ms"


def _raw_name(raw: Any) -> str:
    name = raw.get("name") if isinstance(raw, Mapping) else None
    return name[:200] if isinstance(name, str) else ""


def _raw_type(raw: Any) -> str | None:
    type_id = raw.get("objectTypeId") if isinstance(raw, Mapping) else None
    return FLOW_OBJECT_TYPES.get(type_id) if isinstance(type_id, str) else None
