"""SPEC 3.3: every kind of change re-syncs exactly what it must, on both stores."""

from __future__ import annotations

import pytest

from tests.integration.world import PRIMARY, UNLABELED, World


@pytest.fixture
def w(engine) -> World:
    return World.new(engine)


def test_a_source_value_set_changed_and_cleared_follows_to_the_target(w):
    company = w.one("companies", name="Acme")
    contact = w.one("contacts", email="a@acme.com")
    w.link("contacts", contact, "companies", company, [PRIMARY])
    w.define("contacts", "company_name_sync", "companies", "name", [PRIMARY], None)
    w.settle()
    assert w.value("contacts", contact, "company_name_sync") == "Acme"
    w.set("companies", company, name="Acme AS")
    w.settle()
    assert w.value("contacts", contact, "company_name_sync") == "Acme AS"
    w.set("companies", company, name="")
    w.settle()
    assert w.value("contacts", contact, "company_name_sync") is None


def test_association_created_and_removed_reselects_the_target(w):
    company = w.one("companies", name="Acme")
    contact = w.one("contacts")
    w.define("contacts", "company_name_sync", "companies", "name")
    w.settle()
    assert w.value("contacts", contact, "company_name_sync") is None
    w.link("contacts", contact, "companies", company)
    w.settle()
    assert w.value("contacts", contact, "company_name_sync") == "Acme"
    w.unlink("contacts", contact, "companies", company)
    w.settle()
    assert w.value("contacts", contact, "company_name_sync") is None


def test_an_association_made_from_the_source_end_counts_too(w):
    company = w.one("companies", name="Acme")
    contact = w.one("contacts")
    w.define("contacts", "company_name_sync", "companies", "name")
    w.link("companies", company, "contacts", contact, [280])
    w.settle()
    assert w.value("contacts", contact, "company_name_sync") == "Acme"


def test_gaining_and_losing_a_label_reselects_under_a_label_filter(w):
    first = w.one("companies", name="First")
    second = w.one("companies", name="Second")
    contact = w.one("contacts")
    w.link("contacts", contact, "companies", first, [UNLABELED, PRIMARY])
    w.link("contacts", contact, "companies", second, [UNLABELED])
    w.define("contacts", "primary_name", "companies", "name", [PRIMARY], None)
    w.settle()
    assert w.value("contacts", contact, "primary_name") == "First"
    w.link("contacts", contact, "companies", second, [PRIMARY])  # Primary moves
    w.settle()
    assert w.value("contacts", contact, "primary_name") == "Second"
    w.unlink("contacts", contact, "companies", second, [PRIMARY])
    w.settle()
    assert w.value("contacts", contact, "primary_name") is None


def test_first_created_and_last_created_pick_by_created_at(w):
    old = w.one("companies", name="Old")
    new = w.one("companies", name="New")
    contact = w.one("contacts")
    for company in (new, old):
        w.link("contacts", contact, "companies", company)
    w.define("contacts", "first_name_sync", "companies", "name", None, "FIRST_CREATED")
    w.define("contacts", "last_name_sync", "companies", "name", None, "LAST_CREATED")
    w.settle()
    assert w.value("contacts", contact, "first_name_sync") == "Old"
    assert w.value("contacts", contact, "last_name_sync") == "New"


def test_records_created_in_the_same_millisecond_tie_and_the_smaller_id_wins(w):
    a, b = w.create("companies", 2, name="Same")
    w.set("companies", b, name="Bigger id")
    w.set("companies", a, name="Smaller id")
    contact = w.one("contacts")
    w.link("contacts", contact, "companies", b)
    w.link("contacts", contact, "companies", a)
    w.define("contacts", "last_sync", "companies", "name", None, "LAST_CREATED")
    w.settle()
    assert w.value("contacts", contact, "last_sync") == "Smaller id"


def test_an_empty_winner_gives_an_empty_value_with_no_fall_back(w):
    old = w.one("companies")
    new = w.one("companies", name="Has a name")
    contact = w.one("contacts")
    w.link("contacts", contact, "companies", old)
    w.link("contacts", contact, "companies", new)
    w.define("contacts", "first_sync", "companies", "name", None, "FIRST_CREATED")
    w.settle()
    assert w.value("contacts", contact, "first_sync") is None


def test_archiving_restoring_and_merging_a_source_reselect_its_targets(w):
    old = w.one("companies", name="Old")
    new = w.one("companies", name="New")
    contact = w.one("contacts")
    w.link("contacts", contact, "companies", old)
    w.link("contacts", contact, "companies", new)
    w.define("contacts", "first_sync", "companies", "name", None, "FIRST_CREATED")
    w.settle()
    w.archive("companies", old)
    w.settle()
    assert w.value("contacts", contact, "first_sync") == "New"
    w.restore("companies", old)
    w.settle()
    assert w.value("contacts", contact, "first_sync") == "Old"
    w.merge("companies", new, old)
    w.settle()
    assert w.value("contacts", contact, "first_sync") == "New"


def test_a_primary_company_archived_leaves_the_target_empty(w):
    company = w.one("companies", name="Acme")
    contact = w.one("contacts")
    w.link("contacts", contact, "companies", company, [PRIMARY])
    w.define("contacts", "primary_name", "companies", "name", [PRIMARY], None)
    w.archive("companies", company)
    w.settle()
    assert w.value("contacts", contact, "primary_name") is None


def test_a_target_created_with_or_without_associations_is_synced(w):
    from propsync.domain.history import ValueSource
    from propsync.services import records as svc
    from propsync.services.associations import AssociationInput, TypeSpec

    company = w.one("companies", name="Acme")
    w.define("contacts", "company_name_sync", "companies", "name")
    w.settle()
    lonely = w.one("contacts")
    linked = svc.create_records(w.engine, w.principal, "contacts", [svc.RecordInput(
        {}, [AssociationInput(str(company), [TypeSpec("HUBSPOT_DEFINED", UNLABELED)])])],
        ValueSource("API"))[0].id
    w.settle()
    assert w.value("contacts", lonely, "company_name_sync") is None
    assert w.value("contacts", linked, "company_name_sync") == "Acme"


def test_creating_a_sync_property_backfills_every_existing_target(w):
    companies = w.create("companies", 3, name="C")
    contacts = w.create("contacts", 7)
    for i, contact in enumerate(contacts):
        w.link("contacts", contact, "companies", companies[i % 3])
    w.define("contacts", "company_name_sync", "companies", "name")
    w.settle()
    assert [w.value("contacts", c, "company_name_sync") for c in contacts] == ["C"] * 7


def test_a_chain_converges(w):
    company = w.one("companies", name="Acme")
    contact = w.one("contacts")
    deal = w.one("deals", dealname="Big")
    w.link("contacts", contact, "companies", company)
    w.link("deals", deal, "contacts", contact, [3])
    w.define("contacts", "company_name_sync", "companies", "name")
    w.define("deals", "contact_company_sync", "contacts", "company_name_sync", None,
             "FIRST_CREATED")
    w.settle()
    assert w.value("deals", deal, "contact_company_sync") == "Acme"
    w.set("companies", company, name="Acme 2")
    w.settle()
    assert w.value("deals", deal, "contact_company_sync") == "Acme 2"


def test_same_type_sync_over_a_labelled_association(w):
    manager_label = w.label("contacts", "contacts", "Manager")
    boss = w.one("contacts", firstname="Boss")
    worker = w.one("contacts", firstname="Worker")
    w.link("contacts", worker, "contacts", boss, [manager_label])
    w.define("contacts", "manager_name", "contacts", "firstname", [manager_label])
    w.settle()
    assert w.value("contacts", worker, "manager_name") == "Boss"
    assert w.value("contacts", boss, "manager_name") is None


def test_a_source_edit_changes_only_the_targets_it_wins(w):
    won, other = w.one("companies", name="Won"), w.one("companies", name="Other")
    mine, theirs = w.one("contacts"), w.one("contacts")
    w.link("contacts", mine, "companies", won, [PRIMARY])
    w.link("contacts", theirs, "companies", other, [PRIMARY])
    w.link("contacts", theirs, "companies", won, [UNLABELED])
    w.define("contacts", "primary_name", "companies", "name", [PRIMARY], None)
    w.settle()
    before = (w.history_length("contacts", theirs, "primary_name"), w.updated_ms(theirs))
    w.set("companies", won, name="Won 2")
    w.settle()
    assert w.value("contacts", mine, "primary_name") == "Won 2"
    assert w.value("contacts", theirs, "primary_name") == "Other"
    assert (w.history_length("contacts", theirs, "primary_name"), w.updated_ms(theirs)) == before


def test_a_new_winner_with_the_same_value_is_followed_afterwards(w):
    old, new = w.one("companies", name="Same"), w.one("companies", name="Same")
    contact = w.one("contacts")
    w.link("contacts", contact, "companies", old, [PRIMARY])
    w.define("contacts", "primary_name", "companies", "name", [PRIMARY], None)
    w.settle()
    entries = w.history_length("contacts", contact, "primary_name")
    w.link("contacts", contact, "companies", new, [PRIMARY])  # Primary moves; value stays
    w.settle()
    assert w.history_length("contacts", contact, "primary_name") == entries
    w.set("companies", old, name="Old renamed")
    w.settle()
    assert w.value("contacts", contact, "primary_name") == "Same"
    w.set("companies", new, name="New renamed")
    w.settle()
    assert w.value("contacts", contact, "primary_name") == "New renamed"


def test_a_source_set_after_being_empty_reaches_the_targets_it_wins(w):
    company = w.one("companies")
    contacts = w.create("contacts", 3)
    for contact in contacts:
        w.link("contacts", contact, "companies", company, [PRIMARY])
    w.define("contacts", "primary_name", "companies", "name", [PRIMARY], None)
    w.settle()
    w.set("companies", company, name="Named at last")
    w.settle()
    assert [w.value("contacts", c, "primary_name") for c in contacts] == ["Named at last"] * 3

