"""Writes record what can move a sync value in the change log, in the same transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from propsync.domain.auth import ALL_SCOPES, Principal, Role
from propsync.domain.errors import ValidationError
from propsync.domain.history import ValueSource
from propsync.services import records as svc
from propsync.services.accounts import create_account, create_user
from propsync.services.associations import AssociationInput, TypeSpec
from propsync.services.sync_properties import SourceRequest, create_sync_property
from propsync.storage import tables as t

SOURCE = ValueSource("API")




@pytest.fixture
def engine(quiet_engine: Engine) -> Engine:
    return quiet_engine


@pytest.fixture
def bare(engine: Engine) -> Principal:
    """An account with no sync property."""
    account_id = create_account(engine, "changes")
    user_id = create_user(engine, account_id, "admin@changes.example")
    return Principal(account_id, user_id, frozenset(), frozenset(ALL_SCOPES), Role.SUPER_ADMIN)


@pytest.fixture
def admin(engine: Engine, bare: Principal) -> Principal:
    """An account where contacts sync their company's name, and deals their contact's email."""
    for target, name, source_type, source_property in (
        ("contacts", "company_name_sync", "companies", "name"),
        ("deals", "contact_email_sync", "contacts", "email"),
    ):
        create_sync_property(engine, bare, target, name, name, SourceRequest(
            source_type, source_property, None, "FIRST_CREATED"))
    return bare


def changes(engine: Engine, account_id: int) -> list[tuple[str, str, int, int | None]]:
    c = t.change_log
    with engine.connect() as conn:
        rows = conn.execute(select(c.c.kind, c.c.object_type, c.c.record_id, c.c.related_id)
                            .where(c.c.account_id == account_id).order_by(c.c.change_id))
        return [tuple(r) for r in rows]  # type: ignore[misc]


def test_create_records_the_creation_each_value_and_each_association(engine, admin):
    company = svc.create_records(engine, admin, "companies",
                                 [svc.RecordInput({"name": "Acme"})], SOURCE)[0]
    before = len(changes(engine, admin.account_id))
    contact = svc.create_records(engine, admin, "contacts", [svc.RecordInput(
        {"email": "a@acme.com", "firstname": "A"},
        [AssociationInput(str(company.id), [TypeSpec("HUBSPOT_DEFINED", 1)])])], SOURCE)[0]
    kinds = [c[0] for c in changes(engine, admin.account_id)[before:]]
    assert kinds.count("created") == 1
    assert kinds.count("value") == 1  # email feeds a sync property; firstname does not
    assert ("associated", "contacts", contact.id, company.id) in changes(engine, admin.account_id)


def test_a_write_that_changes_nothing_records_nothing(engine, admin):
    rec = svc.create_records(engine, admin, "contacts", [svc.RecordInput({"firstname": "A"})],
                             SOURCE)[0]
    before = changes(engine, admin.account_id)
    svc.update_records(engine, admin, "contacts", [(str(rec.id), {"firstname": "A"})], SOURCE)
    assert changes(engine, admin.account_id) == before


def test_a_refused_write_leaves_no_record_and_no_change(engine, admin):
    before = changes(engine, admin.account_id)
    with pytest.raises(ValidationError):
        svc.create_records(engine, admin, "deals", [
            svc.RecordInput({"dealname": "fine"}), svc.RecordInput({"amount": "NaN-ish"})], SOURCE)
    assert changes(engine, admin.account_id) == before


def test_archive_restore_and_merge_are_recorded(engine, admin):
    a, b = svc.create_records(engine, admin, "contacts", [
        svc.RecordInput({"firstname": "A"}), svc.RecordInput({"firstname": "B"})], SOURCE)
    svc.archive_records(engine, admin, "contacts", [str(a.id)])
    svc.restore_record(engine, admin, "contacts", str(a.id))
    svc.merge_records(engine, admin, "contacts", str(a.id), str(b.id))
    log = changes(engine, admin.account_id)
    assert ("archived", "contacts", a.id, None) in log
    assert ("restored", "contacts", a.id, None) in log
    assert ("merged", "contacts", b.id, a.id) in log


def test_a_value_that_feeds_a_sync_property_is_recorded_and_others_are_not(engine, admin):
    rec = svc.create_records(engine, admin, "contacts", [svc.RecordInput({})], SOURCE)[0]
    before = len(changes(engine, admin.account_id))
    svc.update_records(engine, admin, "contacts", [(str(rec.id), {"email": "e@x.com",
                                                                 "firstname": "E"})], SOURCE)
    assert changes(engine, admin.account_id)[before:] == [("value", "contacts", rec.id, None)]


def test_a_value_that_was_there_before_is_recorded_as_replaced(engine, admin):
    """Changing or clearing a value says so: the engine then copies it only to the targets
    that stored it as their winner, instead of re-selecting every associated target."""
    rec = svc.create_records(engine, admin, "contacts", [svc.RecordInput({"email": "a@x.com"})],
                             SOURCE)[0]
    before = len(changes(engine, admin.account_id))
    for email in ("b@x.com", None, "c@x.com"):
        svc.update_records(engine, admin, "contacts", [(str(rec.id), {"email": email})], SOURCE)
    assert [kind for kind, *_ in changes(engine, admin.account_id)[before:]] == [
        "replaced", "replaced", "value"]


def test_without_sync_properties_writes_record_nothing(engine, bare):
    company = svc.create_records(engine, bare, "companies", [svc.RecordInput({"name": "A"})],
                                 SOURCE)[0]
    svc.create_records(engine, bare, "contacts", [svc.RecordInput(
        {"email": "a@a.com"},
        [AssociationInput(str(company.id), [TypeSpec("HUBSPOT_DEFINED", 1)])])], SOURCE)
    svc.archive_records(engine, bare, "companies", [str(company.id)])
    assert changes(engine, bare.account_id) == []
