"""The demo account (``make run``) has the copy workflows a new user tries the migration
assistant on, on both stores: the industry copy and the city copy convert one way, the
city copy's dry run finds exactly the Primary contacts of the companies that moved (their
stale copies), the phone pair is two-way and left alone, and the domain copy's condition
is explained."""

from __future__ import annotations

from sqlalchemy import Engine, select

from propsync.domain.auth import ALL_SCOPES, Principal, Role
from propsync.domain.filters import Filter
from propsync.domain.migration_scan import Kind
from propsync.services import demo
from propsync.services import migration_scan as scan_svc
from propsync.services import search as search_svc
from propsync.storage import tables as t
from propsync.storage.db import read_transaction


def test_the_demo_has_one_of_each_copy_workflow_the_assistant_knows(quiet_engine: Engine):
    seeded = demo.seed_demo(quiet_engine, companies=30, contacts=80, deals=10, seed=11)
    users = scan_svc.operator(quiet_engine, seeded.account_id)
    result = scan_svc.scan_account(quiet_engine, users)
    kinds = {f.verdict.name: f.verdict.kind for f in result.flows}
    assert kinds == {demo.COPY_FLOW: Kind.ONE_WAY_COPY, demo.CITY_FLOW: Kind.ONE_WAY_COPY,
                     demo.PHONE_DOWN: Kind.TWO_WAY, demo.PHONE_UP: Kind.TWO_WAY,
                     demo.DOMAIN_FLOW: Kind.CONDITIONAL_COPY}
    city = next(f for f in result.flows if f.verdict.name == demo.CITY_FLOW)
    assert city.flow_id is not None
    plan = scan_svc.plan_flow(quiet_engine, users, str(city.flow_id), 10, 100)
    stale = stale_copies(quiet_engine, seeded.account_id)
    assert (plan.dry_run.stale, plan.dry_run.differing) == (len(stale), len(stale))
    assert set(plan.dry_run.sample) == stale


def stale_copies(engine: Engine, account_id: int) -> set[int]:
    """The demo's stale copies, found by hand: every Primary contact of a company that
    moved (its city copy differs from its Primary company's city), and no other."""
    principal = Principal(account_id, 1, frozenset(), frozenset(ALL_SCOPES), Role.SUPER_ADMIN)
    companies = search_svc.search(engine, principal, "companies", search_svc.SearchRequest(
        properties=("city",), limit=200))
    city_of = {v.id: v.properties["city"] for v in companies.views}
    contacts = search_svc.search(engine, principal, "contacts", search_svc.SearchRequest(
        groups=[[Filter(demo.CITY_COPY, "HAS_PROPERTY")]], properties=(demo.CITY_COPY,),
        limit=200))
    assert contacts.total == len(contacts.views)  # the workflow wrote every copy once
    a = t.associations
    with read_transaction(engine) as conn:
        primary = dict(conn.execute(select(a.c.from_id, a.c.to_id).where(
            a.c.account_id == account_id, a.c.type_id == demo.CONTACT_TO_PRIMARY_COMPANY
        )).all())
    stale = {v.id for v in contacts.views if v.properties[demo.CITY_COPY] !=
             city_of[primary[v.id]]}
    assert stale and len({primary[c] for c in stale}) == demo.STALE_COMPANIES
    return stale
