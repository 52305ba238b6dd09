"""The account the route access probes call every route against, and what they look for.

One account holds, for every object type, records with tagged values, custom properties
(one of them restricted to the administrator), a property group, user-defined labels with
every type, a sync property copying the next type, and a workflow naming a custom
property; every record is associated with records of every type. Everything a probe
looks for in a reply carries the world's ``tag``: a type's record values and custom names,
and the restricted values. Record ids are made at least six digits long, so that no
timestamp or count is mistaken for one.

A call may archive, delete or redefine what the next call names; ``settle`` notices
that the account changed and puts back what is missing, writing only that.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy import Connection, Engine, select

from propsync.domain.associations import USER_DEFINED
from propsync.domain.auth import ALL_SCOPES, Principal, Role
from propsync.domain.history import ValueSource
from propsync.domain.objects import OBJECT_TYPES
from propsync.domain.properties import AccessRule
from propsync.services import associations as assoc_svc
from propsync.services import labels as label_svc
from propsync.services import list_members as members_svc
from propsync.services import lists as list_svc
from propsync.services import members
from propsync.services import property_groups as group_svc
from propsync.services import records as record_svc
from propsync.services import reports as report_svc
from propsync.services import workflows as flow_svc
from propsync.services.accounts import authenticate, create_account, create_token, create_user
from propsync.services.properties import PropertyInput, create_property
from propsync.services.sync_properties import SourceRequest, redefine_sync_property
from propsync.storage import tables as t
from propsync.storage.db import read_transaction, write_transaction
from propsync.storage.ids import allocate_ids

TYPES = tuple(OBJECT_TYPES)
# Each type's sync property copies the next type's plain property.
SOURCE_OF = dict(zip(TYPES, TYPES[1:] + TYPES[:1], strict=True))
KINDS = ("mk", "plain", "secret", "spare")  # the custom properties of every type
FIRST_ID = 100_000
API = ValueSource("API")
Rows = list[tuple[Any, ...]]

_TABLES = {  # what a call may change, table by table (not what the sync engine writes)
    "records": ("record_id", "object_type", "archived", "merged_into"),
    "properties": ("property_id", "object_type", "name", "label", "type", "group_name",
                   "access", "description", "hidden", "display_order"),
    "property_groups": ("object_type", "name", "label", "display_order"),
    "association_types": ("type_id", "from_type", "to_type", "label", "name"),
    "associations": ("from_id", "to_id", "type_id"),
    "sync_properties": ("property_id", "source_type", "source_property_id",
                        "association_type_ids", "selection"),
    "property_values": ("record_id", "property_id", "value"),
    "users": ("user_id", "email", "role"),
    "teams": ("team_id", "name"),
    "team_members": ("team_id", "user_id"),
    "tokens": ("token_id", "user_id", "revoked_ms"),
    "workflows": ("flow_id", "object_type", "name", "enabled", "revision", "definition",
                  "deleted_ms"),
    "reports": ("report_id", "object_type", "definition"),
    "lists": ("list_id", "object_type", "name", "processing_type", "filter_branch",
              "deleted_ms"),
}


@dataclass(frozen=True)
class Snapshot:
    """The account as read after the last change, and what the probes look for in it."""

    tables: dict[str, Rows]  # sync values left out: the engine changes them at any time
    tag: str

    @cached_property
    def ids(self) -> dict[str, frozenset[str]]:
        """Per type, every record id (archived ones too)."""
        return {ot: frozenset(str(r[0]) for r in self.tables["records"] if r[1] == ot)
                for ot in TYPES}

    @cached_property
    def texts(self) -> dict[str, frozenset[str]]:
        """Per type, its tagged values and names: of records, properties, groups, labels."""
        type_of = {r[0]: r[1] for r in self.tables["records"]}
        texts: dict[str, set[str]] = {ot: set() for ot in TYPES}
        for rid, _, value in self.tables["property_values"]:
            texts[type_of[rid]].add(value)
        for _, ot, name, *_ in self.tables["properties"]:
            texts[ot].add(name)
        for ot, name, *_ in self.tables["property_groups"]:
            texts[ot].add(name)
        for _, ft, tt, label, name in self.tables["association_types"]:
            texts[ft] |= {label, name}
            texts[tt] |= {label, name}
        return {ot: frozenset(x for x in found if self.tag in x) for ot, found in texts.items()}

    @cached_property
    def secrets(self) -> frozenset[str]:
        """The values of the restricted properties."""
        restricted = {p[0] for p in self.tables["properties"]
                      if p[2].startswith(f"secret_{self.tag}")}
        return frozenset(v for _, pid, v in self.tables["property_values"] if pid in restricted)

    @cached_property
    def people(self) -> frozenset[str]:
        """The e-mail addresses of the account's users and the names of its teams."""
        return frozenset(r[1] for r in self.tables["users"] + self.tables["teams"]
                         if self.tag in r[1])

    def property_names(self, ot: str) -> list[str]:
        return [p[2] for p in self.tables["properties"] if p[1] == ot]

    def property_id(self, ot: str, name: str) -> int | None:
        return next((p[0] for p in self.tables["properties"] if p[1:3] == (ot, name)), None)


def read_snapshot(engine: Engine, account_id: int, tag: str) -> Snapshot:
    with read_transaction(engine) as conn:
        tables = {name: _rows(conn, name, account_id) for name in _TABLES}
    synced = {row[0] for row in tables["sync_properties"]}
    tables["property_values"] = [v for v in tables["property_values"] if v[1] not in synced]
    return Snapshot(tables, tag)


def _rows(conn: Connection, table: str, account_id: int) -> Rows:
    source = t.metadata.tables[table]
    query = select(*(source.c[n] for n in _TABLES[table])).where(
        source.c.account_id == account_id)
    return sorted(tuple(r) for r in conn.execute(query))


@dataclass
class World:
    engine: Engine
    account_id: int
    tag: str
    admin: Principal  # the account's super admin, with every scope
    stranger_token: str  # a token of another account, with every scope
    pool: dict[str, list[int]] = field(default_factory=dict)  # type → [main, spare] record
    labels: dict[tuple[str, str], int] = field(default_factory=dict)  # (from, to) → type id
    spare_user: int = 0  # a plain user whom calls may give another role or team
    team: int = 0  # a team of the spare user, named by no access rule
    spare_token: int = 0  # a live token of the spare user, which calls may revoke
    flows: dict[str, int] = field(default_factory=dict)  # type → a live workflow of it
    reports: dict[str, int] = field(default_factory=dict)  # type → a report of it
    # type → a live DYNAMIC list (filtering on its plain property) and a MANUAL one
    lists: dict[str, tuple[int, int]] = field(default_factory=dict)
    made: int = 0
    snapshot: Snapshot | None = None

    def name(self, object_type: str, kind: str) -> str:
        """The custom property ``kind`` (or ``grp``, ``sync``) of ``object_type``."""
        return f"{kind}_{self.tag}_{object_type}"

    def fresh(self, kind: str) -> str:
        """A new name for something a call creates; tagged, so the probes look for it. The
        number has a fixed width: the probes find names as text, and ``…_19`` is in
        ``…_199``, which reported a leak where there was none."""
        self.made += 1
        return f"{kind}_{self.tag}_{self.made:06d}"

    def token(self, scopes: str = "all", user_id: int | None = None) -> str:
        """A token of the administrator (or of ``user_id``) with ``scopes``."""
        return create_token(self.engine, self.account_id, scopes,
                            user_id or self.admin.user_id).token

    def user_token(self, role: Role | None = None, scopes: str = "all") -> str:
        """A token of a new user of the account (a plain user unless ``role`` says
        otherwise); the restricted properties admit the administrator only, not them."""
        self.made += 1
        user = create_user(self.engine, self.account_id,
                           f"user-{self.made}-{self.tag}@example.com", role=role)
        return self.token(scopes, user)

    def record(self, object_type: str, spare: bool = False) -> str:
        return str(self.pool[object_type][1 if spare else 0])

    @property
    def seen(self) -> Snapshot:
        assert self.snapshot is not None
        return self.snapshot

    def settle(self) -> bool:
        """Did the account change since the last snapshot? If so, put back what the next
        call needs and take a new snapshot."""
        now = read_snapshot(self.engine, self.account_id, self.tag)
        if self.snapshot is not None and now.tables == self.snapshot.tables:
            return False
        for step in (self._fix_schema, self._fix_records, self._fix_links, self._fix_people,
                     self._fix_flows, self._fix_reports,
                     self._fix_lists):
            if step(now):
                now = read_snapshot(self.engine, self.account_id, self.tag)
        self.snapshot = now
        return True

    def _fix_schema(self, now: Snapshot) -> bool:
        """Groups, custom properties, labels and sync properties; True if it wrote any."""
        groups = {(g[0], g[1]) for g in now.tables["property_groups"]}
        wrote = False
        for ot in TYPES:
            if (ot, self.name(ot, "grp")) not in groups:
                group_svc.create_group(self.engine, self.admin, ot, self.name(ot, "grp"),
                                       f"Group {self.name(ot, 'grp')}")
                wrote = True
            for kind in KINDS:
                if now.property_id(ot, self.name(ot, kind)) is None:
                    self._create_property(ot, kind)
                    wrote = True
        wrote |= self._fix_labels(now)
        for ot in TYPES:
            wrote |= self._fix_sync(now, ot)
        return wrote

    def _create_property(self, ot: str, kind: str) -> None:
        only_admin = frozenset({self.admin.user_id})
        access = AccessRule(only_admin, None, only_admin, None) if kind == "secret" else None
        name = self.name(ot, kind)
        create_property(self.engine, self.admin, ot, PropertyInput(
            name, f"Label {name}", "string", "text", OBJECT_TYPES[ot].group, access=access))

    def _fix_labels(self, now: Snapshot) -> bool:
        named = {r[4]: r[0] for r in now.tables["association_types"]}
        wrote = False
        for i, a in enumerate(TYPES):
            for b in TYPES[i:]:
                name = f"lbl_{self.tag}_{a}_{b}"
                if name not in named:
                    made = label_svc.create_label(
                        self.engine, self.admin, a, b, f"L {self.tag} {a} {b}", name,
                        f"I {self.tag} {a} {b}" if a != b else None)
                    named.update({ty.name: ty.type_id for ty in made})
                    wrote = True
                self.labels[(a, b)] = named[name]
                self.labels[(b, a)] = named.get(f"{name}_inverse", named[name])
        return wrote

    def _fix_sync(self, now: Snapshot, ot: str) -> bool:
        source = SOURCE_OF[ot]
        wanted = SourceRequest(source, self.name(source, "plain"), None, "FIRST_CREATED")
        pid = now.property_id(ot, self.name(ot, "sync"))
        found = next((d for d in now.tables["sync_properties"] if d[0] == pid), None)
        if pid is None:
            create_property(self.engine, self.admin, ot, PropertyInput(
                self.name(ot, "sync"), f"Label {self.name(ot, 'sync')}", None, None,
                OBJECT_TYPES[ot].group, sync_source=wanted))
        elif found is None or found[1:4] != (
                source, now.property_id(source, wanted.property_name), None):
            redefine_sync_property(self.engine, self.admin, ot, self.name(ot, "sync"), wanted)
        else:
            return False
        return True

    def _fix_records(self, now: Snapshot) -> bool:
        """A live main and spare record of every type, holding the tagged values."""
        live = {r[0] for r in now.tables["records"] if not r[2]}
        values = {(v[0], v[1]): v[2] for v in now.tables["property_values"]}
        wrote = False
        for ot in TYPES:
            kept = [i for i in self.pool.get(ot, []) if i in live]
            while len(kept) < 2:
                kept.append(self._new_record(ot, kept))
                wrote = True
            self.pool[ot] = kept
            wrong = [rid for rid in kept if any(
                values.get((rid, now.property_id(ot, name))) != text
                for name, text in self._values(ot).items())]
            if wrong:
                record_svc.update_records(self.engine, self.admin, ot, [
                    (str(rid), self._values(ot)) for rid in wrong], API)
                wrote = True
        return wrote

    def _values(self, ot: str) -> dict[str, str]:
        """The tagged values of a pool record of ``ot``."""
        return {self.name(ot, "mk"): f"mk-{self.tag}-{ot}",
                self.name(ot, "secret"): f"secret-{self.tag}-{ot}",
                self.name(ot, "plain"): f"plain {ot}"}

    def _new_record(self, ot: str, kept: list[int]) -> int:
        """A pool record made in one call, associated with the main record of every other
        type and with the other pool record of its own type (what ``_fix_links`` wants)."""
        links = [assoc_svc.AssociationInput(str(self.pool[tt][0]), [assoc_svc.TypeSpec(
            USER_DEFINED, self.labels[(ot, tt)])]) for tt in TYPES
            if tt != ot and len(self.pool.get(tt, [])) == 2]
        links += [assoc_svc.AssociationInput(str(k), [assoc_svc.TypeSpec(
            USER_DEFINED, self.labels[(ot, ot)])]) for k in kept]
        return record_svc.create_records(self.engine, self.admin, ot, [
            record_svc.RecordInput(self._values(ot), links)], API)[0].id

    def _fix_links(self, now: Snapshot) -> bool:
        """Every pool record is associated, with the default type and the world's label,
        to the main record of every other type and to the other pool record of its own."""
        have = {(a[0], a[1], a[2]) for a in now.tables["associations"]}
        wrote = False
        for ft in TYPES:
            for tt in TYPES:
                main, spare = self.pool[ft]
                label, back = self.labels[(ft, tt)], self.labels[(tt, ft)]
                pairs = [(spare, self.pool[tt][0])] + (
                    [(main, self.pool[tt][0])] if ft != tt else [])
                missing = [(f, to) for f, to in pairs if (f, to, label) not in have]
                if missing:
                    assoc_svc.associate(self.engine, self.admin, ft, tt, [
                        assoc_svc.PairInput(str(f), str(to), [assoc_svc.TypeSpec(
                            USER_DEFINED, label)]) for f, to in missing])
                    have |= {(f, to, label) for f, to in missing}
                    have |= {(to, f, back) for f, to in missing}
                    wrote = True
        return wrote


    def flow_body(self, ot: str) -> dict[str, Any]:
        """A workflow of ``ot`` that names one of its custom properties (so a reply that
        shows it shows a text of ``ot``), and no other type."""
        return {"type": "PLATFORM_FLOW", "objectTypeId": OBJECT_TYPES[ot].type_id,
                "flowType": "WORKFLOW", "name": f"Flow {ot}", "isEnabled": False,
                "enrollmentCriteria": {"type": "MANUAL", "shouldReEnroll": False},
                "actions": [{"type": "SINGLE_CONNECTION", "actionId": "1",
                             "actionTypeId": "0-5", "actionTypeVersion": 0, "fields": {
                                 "property_name": self.name(ot, "plain"),
                                 "value": {"type": "STATIC_VALUE", "staticValue": "set"}}}],
                "dataSources": [], "blockedDates": [], "timeWindows": [],
                "customProperties": {}}

    def flow_revision(self, flow_id: str) -> tuple[str, str]:
        """The object type and current revision of one of the world's workflows."""
        row = next(r for r in self.seen.tables["workflows"] if str(r[0]) == flow_id)
        return row[1], str(row[4])

    def _fix_flows(self, now: Snapshot) -> bool:
        """A live workflow of every type (a call may have deleted one)."""
        live = {r[0] for r in now.tables["workflows"] if r[6] is None}
        wrote = False
        for ot in TYPES:
            if self.flows.get(ot) not in live:
                self.flows[ot] = flow_svc.create_flow(self.engine, self.admin,
                                                      self.flow_body(ot)).flow_id
                wrote = True
        return wrote

    def report_body(self, ot: str) -> dict[str, Any]:
        """A report of ``ot`` grouped by one of its custom properties (so a reply that
        shows it shows a text of ``ot``) and filtered by another."""
        return {"name": f"Report {ot}", "objectType": ot, "measure": "COUNT",
                "groupBy": self.name(ot, "plain"), "chartType": "BAR", "maxGroups": 20,
                "filterBranch": {"filterBranchType": "AND", "filters": [{
                    "filterType": "PROPERTY", "property": self.name(ot, "mk"),
                    "operation": {"operationType": "ALL_PROPERTY", "operator": "IS_KNOWN"}}]}}

    def _fix_reports(self, now: Snapshot) -> bool:
        """A report of every type (a call may have deleted one)."""
        live = {r[0] for r in now.tables["reports"]}
        wrote = False
        for ot in TYPES:
            if self.reports.get(ot) not in live:
                self.reports[ot] = report_svc.create_report(
                    self.engine, self.admin, self.report_body(ot)).report_id
                wrote = True
        return wrote

    def list_filter(self, ot: str) -> dict[str, Any]:
        """A filter on ``ot``'s plain property (so a reply that shows it shows a text of
        ``ot``)."""
        return {"filterBranchType": "OR", "filterBranches": [{
            "filterBranchType": "AND", "filters": [{
                "filterType": "PROPERTY", "property": self.name(ot, "plain"),
                "operation": {"operationType": "ALL_PROPERTY", "operator": "IS_KNOWN"}}]}]}

    def list_body(self, ot: str, kind: str = "DYNAMIC") -> dict[str, Any]:
        body = {"name": self.fresh("list"), "objectTypeId": OBJECT_TYPES[ot].type_id,
                "processingType": kind}
        if kind != "MANUAL":
            body["filterBranch"] = self.list_filter(ot)
        return body

    def list_type(self, list_id: str) -> str:
        """The object type of one of the world's lists."""
        return next(ot for ot, ids in self.lists.items() if list_id in map(str, ids))

    def _fix_lists(self, now: Snapshot) -> bool:
        """A live DYNAMIC and a live MANUAL list of every type, the MANUAL one with a
        member (a call may have deleted a list or emptied it)."""
        live = {r[0] for r in now.tables["lists"] if r[5] is None}
        m = t.list_memberships  # not in the snapshot: the list worker changes them any time
        with read_transaction(self.engine) as conn:
            members = set(conn.execute(select(m.c.list_id).where(
                m.c.account_id == self.account_id)).scalars())
        wrote = False
        for ot in TYPES:
            dynamic, manual = self.lists.get(ot, (0, 0))
            if dynamic not in live:
                dynamic = list_svc.create_list(self.engine, self.admin,
                                               self.list_body(ot)).list_id
                wrote = True
            if manual not in live:
                manual = list_svc.create_list(self.engine, self.admin,
                                              self.list_body(ot, "MANUAL")).list_id
                wrote = True
            if manual not in members:
                members_svc.change_members(self.engine, self.admin, str(manual),
                                        [self.record(ot)], [])
                wrote = True
            self.lists[ot] = (dynamic, manual)
        return wrote

    def _fix_people(self, now: Snapshot) -> bool:
        """The spare user and the world's team exist (a call may have deleted the team)."""
        wrote = False
        if not any(r[0] == self.spare_user for r in now.tables["users"]):
            self.spare_user = create_user(self.engine, self.account_id,
                                          f"spare-{self.tag}@example.com", role=Role.USER)
            wrote = True
        if not any(r[0] == self.team for r in now.tables["teams"]):
            self.team = members.create_team(self.engine, self.admin, self.fresh("team"),
                                            [self.spare_user]).team_id
            wrote = True
        if not any(r[0] == self.spare_token and r[2] is None for r in now.tables["tokens"]):
            self.spare_token = create_token(self.engine, self.account_id, "all",
                                            self.spare_user).token_id
            wrote = True
        return wrote


def long_ids(engine: Engine) -> None:
    """Move the record id sequence past ``FIRST_ID`` (ids are unique across accounts)."""
    with write_transaction(engine) as conn:
        first = allocate_ids(conn, "records", 1)[0]
        if first < FIRST_ID:
            allocate_ids(conn, "records", FIRST_ID - first)


def scopes_but(object_type: str) -> str:
    """Every scope but the four of ``object_type``."""
    return " ".join(s for s in ALL_SCOPES if f".{object_type}." not in s)


def build_world(engine: Engine) -> World:
    """A new account set up as the module docstring says, and another account."""
    long_ids(engine)
    tag = "".join(secrets.choice(string.ascii_lowercase) for _ in range(10))  # no digits
    account = create_account(engine, f"Access {tag}", "enterprise")
    admin_id = create_user(engine, account, f"admin-{tag}@example.com", role=Role.SUPER_ADMIN)
    admin_token = create_token(engine, account, "all", admin_id).token
    stranger = create_account(engine, f"Stranger {tag}")
    stranger_user = create_user(engine, stranger, f"stranger-{tag}@example.com")
    stranger_token = create_token(engine, stranger, "all", stranger_user).token
    other = authenticate(engine, f"Bearer {stranger_token}")
    for ot in TYPES:  # so that the stranger's own lists are not empty
        record_svc.create_records(engine, other, ot, [record_svc.RecordInput({})], API)
    world = World(engine, account, tag, authenticate(engine, f"Bearer {admin_token}"),
                  stranger_token)
    world.settle()
    return world
