"""The demo account: a few hundred companies, contacts and deals, linked as a CRM would be.

Deterministic (seeded random), built with the same services as the API, in batches.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select, update

from propsync.clock import now_ms
from propsync.domain.associations import BUILT_IN_TYPES, AssociationType, user_defined_pair
from propsync.domain.auth import ALL_SCOPES, Principal, Role
from propsync.domain.copy_flows import copy_to_associated
from propsync.domain.history import ValueSource
from propsync.services import lists as list_svc
from propsync.services import properties as prop_svc
from propsync.services import records as record_svc
from propsync.services import reports as report_svc
from propsync.services import workflow_runs as run_svc
from propsync.services import workflows as flow_svc
from propsync.services.accounts import create_account, create_token, create_user, hash_password
from propsync.storage import associations as assoc_store
from propsync.storage import tables as t
from propsync.storage.associations import Link
from propsync.storage.db import read_transaction, write_transaction

DEMO_NAME = "Demo Co"
DEMO_EMAIL = "admin@demo.propsync.local"
_WORDS = ("Nordic", "Fjord", "Aurora", "Granite", "Harbor", "Pine", "Summit", "Polar",
          "Coastal", "Bright", "Iron", "Silver", "Maple", "Delta", "Vista", "Cedar")
_KINDS = ("Systems", "Logistics", "Analytics", "Foods", "Energy", "Labs", "Media", "Works")
_FIRST = ("Ada", "Bjørn", "Clara", "David", "Emma", "Frida", "Gustav", "Hanna", "Ivar",
          "Jonas", "Kari", "Lars", "Maja", "Nora", "Ola", "Per", "Sofie", "Tor")
_LAST = ("Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Berg")
_CITIES = ("Oslo", "Bergen", "Trondheim", "Stavanger", "Tromsø", "Stockholm", "Copenhagen")
_INDUSTRIES = ("Software", "Retail", "Shipping", "Energy", "Finance", "Healthcare")
_STAGES = ("appointmentscheduled", "qualifiedtobuy", "presentationscheduled",
           "contractsent", "closedwon", "closedlost")
SOURCE = ValueSource("IMPORT", "demo", "Demo data")


@dataclass(frozen=True)
class Demo:
    account_id: int
    token: str
    email: str
    password: str


def find_demo_account(engine: Engine) -> int | None:
    a = t.accounts
    with read_transaction(engine) as conn:
        return conn.execute(select(a.c.account_id).where(a.c.name == DEMO_NAME)
                            .order_by(a.c.account_id).limit(1)).scalar()


def has_accounts(engine: Engine) -> bool:
    with read_transaction(engine) as conn:
        return conn.execute(select(t.accounts.c.account_id).limit(1)).first() is not None


def demo_token(engine: Engine, account_id: int) -> Demo:
    """A fresh all-scopes token and a fresh password for the existing demo account's user
    (only a hash of the first password was kept, so it cannot be shown again)."""
    u = t.users
    password = secrets.token_urlsafe(9)
    with write_transaction(engine) as conn:
        user_id = conn.execute(select(u.c.user_id).where(
            u.c.account_id == account_id, u.c.email == DEMO_EMAIL)).scalar()
        conn.execute(update(u).where(u.c.account_id == account_id, u.c.user_id == user_id)
                     .values(password_hash=hash_password(password)))
    token = create_token(engine, account_id, "all", user_id, "demo").token
    return Demo(account_id, token, DEMO_EMAIL, password)


def seed_demo(engine: Engine, companies: int = 120, contacts: int = 300, deals: int = 150,
              seed: int = 7) -> Demo:
    """Create the demo account with its records, associations and a label."""
    rng = random.Random(seed)
    account_id = create_account(engine, DEMO_NAME, "enterprise")
    password = secrets.token_urlsafe(9)
    user_id = create_user(engine, account_id, DEMO_EMAIL, password, "Demo Admin")
    principal = Principal(account_id, user_id, frozenset(), frozenset(ALL_SCOPES), Role.SUPER_ADMIN)
    company_values = [_company(rng) for _ in range(companies)]
    company_ids = _create(engine, principal, "companies", company_values)
    contact_ids = _create(engine, principal, "contacts", [_contact(rng) for _ in
                                                         range(contacts)])
    deal_ids = _create(engine, principal, "deals", [_deal(rng) for _ in range(deals)])
    primary = _link_all(engine, account_id, rng, company_ids, contact_ids, deal_ids)
    _copy_workflow(engine, principal)
    cities = {c: str(v["city"]) for c, v in zip(company_ids, company_values, strict=True)}
    _migration_examples(engine, principal, rng, primary, cities)
    token = create_token(engine, account_id, "all", user_id, "demo").token
    return Demo(account_id, token, DEMO_EMAIL, password)


# The copy workflow a HubSpot user builds before sync properties (SPEC 5): each company's
# industry copied to its Primary contacts, re-run whenever the industry changes.
COPY_PROPERTY = "company_industry_copy"
COPY_FLOW = "Copy company industry to Primary contacts"
COMPANY_TO_PRIMARY_CONTACT = next(t.type_id for t in BUILT_IN_TYPES.values()
                                  if t.name == "company_to_contact")
CONTACT_TO_PRIMARY_COMPANY = next(t.type_id for t in BUILT_IN_TYPES.values()
                                  if t.name == "contact_to_company")
# The migration assistant's examples (``_migration_examples``).
CITY_COPY, CITY_FLOW = "company_city_copy", "Copy company city to Primary contacts"
STALE_COMPANIES = 8  # companies that moved while the city workflow was off
PHONE_COPY = "company_phone_copy"
PHONE_DOWN = "Copy company phone to Primary contacts"
PHONE_UP = "Copy a contact's company phone back to its Primary company"
DOMAIN_COPY = "company_domain_copy"
DOMAIN_FLOW = "Copy the domain of software companies to Primary contacts"


def copy_flow_definition() -> dict[str, Any]:
    """The demo's copy workflow as ``POST /automation/v4/flows`` takes it."""
    return copy_to_associated(COPY_FLOW, "0-2", "industry", COPY_PROPERTY,
                              COMPANY_TO_PRIMARY_CONTACT)


def _copy_workflow(engine: Engine, principal: Principal) -> None:
    """The copy property and the copy workflow, turned on, with every company enrolled:
    the engine fills the copies once a worker runs (``propsync serve`` embeds one)."""
    prop_svc.create_property(engine, principal, "contacts", prop_svc.PropertyInput(
        COPY_PROPERTY, "Company industry (copied by workflow)", "string", "text",
        "contactinformation"))
    flow = flow_svc.create_flow(engine, principal, copy_flow_definition())
    run_svc.enroll_existing(engine, principal, str(flow.flow_id))


def _migration_examples(engine: Engine, principal: Principal, rng: random.Random,
                        primary: dict[int, int], cities: dict[int, str]) -> None:
    """The other copy workflows an account moving to sync properties has (issue 16's
    assistant finds them): a copy whose copies went stale, a two-way pair and a copy with
    a condition."""
    for name, label in ((CITY_COPY, "Company city (copied by workflow)"),
                        (DOMAIN_COPY, "Company domain (copied for software companies)"),
                        (PHONE_COPY, "Company phone (kept both ways by workflows)")):
        prop_svc.create_property(engine, principal, "contacts", prop_svc.PropertyInput(
            name, label, "string", "text", "contactinformation"))
    # Stale copies: the city workflow wrote every Primary contact's copy once; then some
    # companies moved while it was turned off, and only a change of city enrolls again.
    city = flow_svc.create_flow(engine, principal, copy_to_associated(
        CITY_FLOW, "0-2", "city", CITY_COPY, COMPANY_TO_PRIMARY_CONTACT))
    moved = set(rng.sample(sorted(cities), STALE_COMPANIES))
    as_flow = ValueSource("WORKFLOW", str(city.flow_id), CITY_FLOW)
    copies = [(str(contact), {CITY_COPY: _elsewhere(cities[company]) if company in moved
                              else cities[company]})
              for contact, company in sorted(primary.items())]
    for start in range(0, len(copies), 100):
        record_svc.update_records(engine, principal, "contacts", copies[start:start + 100],
                                  as_flow)
    # A two-way pair: the company's phone to its Primary contacts, and back.
    for definition in (
            copy_to_associated(PHONE_DOWN, "0-2", "phone", PHONE_COPY,
                               COMPANY_TO_PRIMARY_CONTACT),
            copy_to_associated(PHONE_UP, "0-1", PHONE_COPY, "phone", CONTACT_TO_PRIMARY_COMPANY)):
        flow_svc.create_flow(engine, principal, definition)
    # A copy with a condition: only software companies' domains are copied.
    domain = copy_to_associated(DOMAIN_FLOW, "0-2", "domain", DOMAIN_COPY,
                                COMPANY_TO_PRIMARY_CONTACT)
    domain["enrollmentCriteria"]["listFilterBranch"]["filterBranches"][0]["filters"].append({
        "filterType": "PROPERTY", "property": "industry", "operation": {
            "operationType": "MULTISTRING", "operator": "IS_EQUAL_TO", "values": ["Software"],
            "includeObjectsWithNoValueSet": False}})
    made = flow_svc.create_flow(engine, principal, domain)
    run_svc.enroll_existing(engine, principal, str(made.flow_id))
    _uses_of_the_copies(engine, principal)


CITY_LIST = "Primary contacts in Oslo (by the copied city)"
CITY_REPORT = "Contacts by company city (copied)"
INDUSTRY_REPORT = "Contacts by company industry (copied)"


def _uses_of_the_copies(engine: Engine, principal: Principal) -> None:
    """What people rely on the copies for: a list and a report on the city copy (their
    clones, on the sync property, differ by the stale copies) and a report on the industry
    copy (its clone counts the same). The assistant clones and compares them."""
    list_svc.create_list(engine, principal, {
        "name": CITY_LIST, "objectTypeId": "0-1", "processingType": "DYNAMIC",
        "filterBranch": {"filterBranchType": "OR", "filters": [], "filterBranches": [{
            "filterBranchType": "AND", "filterBranches": [], "filters": [{
                "filterType": "PROPERTY", "property": CITY_COPY, "operation": {
                    "operationType": "STRING", "operator": "IS_EQUAL_TO",
                    "value": _CITIES[0]}}]}]}})
    for name, group_by in ((CITY_REPORT, CITY_COPY), (INDUSTRY_REPORT, COPY_PROPERTY)):
        report_svc.create_report(engine, principal, {
            "name": name, "objectType": "contacts", "groupBy": group_by})


def _elsewhere(city: str) -> str:
    """The city a company had before it moved (another one of the demo's)."""
    return _CITIES[(_CITIES.index(city) + 1) % len(_CITIES)]


def _create(engine: Engine, principal: Principal, object_type: str,
            values: list[dict[str, object]]) -> list[int]:
    ids: list[int] = []
    for start in range(0, len(values), 100):
        views = record_svc.create_records(engine, principal, object_type, [
            record_svc.RecordInput(v) for v in values[start:start + 100]], SOURCE)
        ids += [v.id for v in views]
    return ids


def _company(rng: random.Random) -> dict[str, object]:
    name = f"{rng.choice(_WORDS)} {rng.choice(_KINDS)}"
    domain = name.lower().replace(" ", "") + f"{rng.randrange(100)}.example"
    return {"name": name, "domain": domain, "city": rng.choice(_CITIES),
            "industry": rng.choice(_INDUSTRIES), "numberofemployees": rng.randrange(5, 5000)}


def _contact(rng: random.Random) -> dict[str, object]:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    return {"firstname": first, "lastname": last, "city": rng.choice(_CITIES),
            "email": f"{first}.{last}{rng.randrange(1000)}@example.com".lower()}


def _deal(rng: random.Random) -> dict[str, object]:
    return {"dealname": f"{rng.choice(_WORDS)} renewal", "amount": rng.randrange(1, 500) * 100,
            "dealstage": rng.choice(_STAGES), "pipeline": "default"}


def _link_all(engine: Engine, account_id: int, rng: random.Random, companies: list[int],
              contacts: list[int], deals: list[int]) -> dict[int, int]:
    """Contacts get 1-3 companies (one Primary), deals one Primary company and a contact;
    some contact-company pairs carry the user-defined "Billing contact" label. Returns
    each contact's Primary company."""
    with write_transaction(engine) as conn:
        first = assoc_store.next_user_type_id(conn, account_id)
        billing, inverse = user_defined_pair("contacts", "companies", first, "Billing contact",
                                             "Billed company", "billing_contact")
        assoc_store.insert_user_types(conn, account_id, [billing, inverse])
        types = assoc_store.load_types(conn, account_id)
        links: list[Link] = []
        primary: dict[int, int] = {}
        for contact in contacts:
            chosen = rng.sample(companies, rng.randint(1, 3))
            primary[contact] = chosen[0]
            links += _pair("contacts", contact, "companies", chosen[0], (279, 1), types)
            for other in chosen[1:]:
                extra = (279, billing.type_id) if rng.random() < 0.3 else (279,)
                links += _pair("contacts", contact, "companies", other, extra, types)
        for deal in deals:
            links += _pair("deals", deal, "companies", rng.choice(companies), (341, 5), types)
            links += _pair("deals", deal, "contacts", rng.choice(contacts), (3,), types)
        assoc_store.add_links(conn, account_id, links, types, now_ms())
    return primary


def _pair(from_type: str, from_id: int, to_type: str, to_id: int, type_ids: tuple[int, ...],
          types: dict[int, AssociationType]) -> list[Link]:
    return [Link(from_type, from_id, to_type, to_id, types[i]) for i in type_ids]
