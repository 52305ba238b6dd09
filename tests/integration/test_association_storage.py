"""Association writes on both stores: the Primary rule, label removal, and the change log."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from propsync.domain.auth import ALL_SCOPES, Principal, Role
from propsync.domain.history import ValueSource
from propsync.services import associations as assoc_svc
from propsync.services import labels as label_svc
from propsync.services import records as record_svc
from propsync.services.accounts import create_account, create_user
from propsync.services.sync_properties import SourceRequest, create_sync_property
from propsync.storage import associations as store
from propsync.storage import tables as t
from propsync.storage.associations import Link
from propsync.storage.db import read_transaction, write_transaction

SOURCE = ValueSource("API")
PRIMARY = assoc_svc.TypeSpec("HUBSPOT_DEFINED", 1)


@pytest.fixture
def engine(quiet_engine: Engine) -> Engine:
    return quiet_engine


@pytest.fixture
def admin(engine: Engine) -> Principal:
    """An account where contacts sync their companies' name, so associations are logged."""
    account_id = create_account(engine, "associations")
    user_id = create_user(engine, account_id, "admin@associations.example")
    principal = Principal(account_id, user_id, frozenset(), frozenset(ALL_SCOPES), Role.SUPER_ADMIN)
    create_sync_property(engine, principal, "contacts", "company_name_sync", "Company name",
                         SourceRequest("companies", "name", None, "FIRST_CREATED"))
    return principal


def make(engine: Engine, principal: Principal, object_type: str, count: int) -> list[str]:
    inputs = [record_svc.RecordInput({}) for _ in range(count)]
    return [str(r.id) for r in
            record_svc.create_records(engine, principal, object_type, inputs, SOURCE)]


def logged(engine: Engine, account_id: int) -> list[tuple[str, int, int | None]]:
    c = t.change_log
    with engine.connect() as conn:
        rows = conn.execute(select(c.c.kind, c.c.record_id, c.c.related_id)
                            .where(c.c.account_id == account_id).order_by(c.c.change_id))
        return [(r.kind, r.record_id, r.related_id) for r in rows]


def type_ids(engine: Engine, principal: Principal, contact: str) -> dict[int, set[int]]:
    with read_transaction(engine) as conn:
        links = store.load_links(conn, principal.account_id, [int(contact)], "companies")
    return {to: set(ids) for to, ids in links.get(int(contact), {}).items()}


def test_one_call_naming_two_primaries_keeps_the_last(engine, admin):
    (contact,) = make(engine, admin, "contacts", 1)
    first, second = (int(i) for i in make(engine, admin, "companies", 2))
    with write_transaction(engine) as conn:
        types = store.load_types(conn, admin.account_id)
        store.add_links(conn, admin.account_id, [
            Link("contacts", int(contact), "companies", company, types[1])
            for company in (first, second)], types, 1)
    assert type_ids(engine, admin, contact) == {second: {1}}


def test_a_moved_primary_logs_the_previous_pair_as_dissociated(engine, admin):
    (contact,) = make(engine, admin, "contacts", 1)
    first, second = make(engine, admin, "companies", 2)
    for company in (first, second):
        assoc_svc.associate(engine, admin, "contacts", "companies",
                            [assoc_svc.PairInput(contact, company, [PRIMARY])])
    assert ("dissociated", int(contact), int(first)) in logged(engine, admin.account_id)
    assert type_ids(engine, admin, contact) == {int(first): {279}, int(second): {1, 279}}


def test_removing_the_unlabeled_type_removes_the_pair_and_logs_it(engine, admin):
    (contact,) = make(engine, admin, "contacts", 1)
    (company,) = make(engine, admin, "companies", 1)
    assoc_svc.associate(engine, admin, "contacts", "companies",
                        [assoc_svc.PairInput(contact, company, [PRIMARY])])
    before = len(logged(engine, admin.account_id))
    assoc_svc.remove_labels(engine, admin, "contacts", "companies", [assoc_svc.PairInput(
        contact, company, [assoc_svc.TypeSpec("HUBSPOT_DEFINED", 279)])])
    assert type_ids(engine, admin, contact) == {}
    assert logged(engine, admin.account_id)[before:] == [
        ("dissociated", int(contact), int(company))]


def test_deleting_a_label_removes_its_associations_and_logs_each_pair(engine, admin):
    contacts = make(engine, admin, "contacts", 2)
    (company,) = make(engine, admin, "companies", 1)
    label = label_svc.create_label(engine, admin, "contacts", "companies", "Billing", "billing",
                                   "Billed")[0]
    spec = assoc_svc.TypeSpec("USER_DEFINED", label.type_id)
    assoc_svc.associate(engine, admin, "contacts", "companies",
                        [assoc_svc.PairInput(c, company, [spec]) for c in contacts])
    before = len(logged(engine, admin.account_id))
    label_svc.delete_label(engine, admin, "contacts", "companies", label.type_id)
    assert [type_ids(engine, admin, c) for c in contacts] == [{int(company): {279}}] * 2
    after = {(kind, frozenset((a, b))) for kind, a, b in logged(engine, admin.account_id)[before:]}
    assert after == {("dissociated", frozenset((int(c), int(company)))) for c in contacts}
