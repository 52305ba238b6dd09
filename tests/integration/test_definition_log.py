"""Every change of a property definition is logged with who and what, in its transaction."""

from __future__ import annotations

import pytest

from propsync.domain.errors import ValidationError
from propsync.services import properties as svc
from propsync.services.definition_log import definition_log
from propsync.services.sync_properties import SourceRequest
from tests.integration.world import PRIMARY, World


@pytest.fixture
def w(engine) -> World:
    return World.new(engine)


def entries(w: World, object_type: str, property_id: int) -> list[tuple[str, str]]:
    return [(e.action, e.summary)
            for e in definition_log(w.engine, w.principal, object_type, property_id)]


def test_create_change_and_delete_are_logged_with_what_changed(w):
    created = svc.create_property(w.engine, w.principal, "companies", svc.PropertyInput(
        name="tier", label="Tier", type="string", field_type="text",
        group_name="companyinformation"))
    pid = created.definition.id
    svc.update_property(w.engine, w.principal, "companies", "tier",
                        svc.PropertyPatch(label="Customer tier"))
    svc.update_property(w.engine, w.principal, "companies", "tier",
                        svc.PropertyPatch(label="Customer tier"))  # no change: no entry
    svc.delete_property(w.engine, w.principal, "companies", "tier")
    assert entries(w, "companies", pid) == [
        ("CREATED", "Created: string / text in group 'companyinformation'"),
        ("UPDATED", "Label 'Tier' → 'Customer tier'"),
        ("DELETED", "Deleted"),
    ]
    log = definition_log(w.engine, w.principal, "companies", pid)
    assert {e.user_id for e in log} == {w.principal.user_id}


def test_a_sync_property_logs_its_source_and_source_changes(w):
    pid = w.define("contacts", "company_name_sync", "companies", "name", [PRIMARY], None)
    svc.update_property(w.engine, w.principal, "contacts", "company_name_sync", svc.PropertyPatch(
        sync_source=SourceRequest("companies", "name", None, "LAST_CREATED")))
    assert entries(w, "contacts", pid) == [
        ("CREATED", "Created as a sync property: copies companies · Company name over "
                    "Primary"),
        ("UPDATED", "Source changed: copies companies · Company name over all association "
                    "labels, last created"),
    ]


def test_a_refused_change_logs_nothing(w):
    pid = w.define("contacts", "company_name_sync", "companies", "name", [PRIMARY], None)
    with pytest.raises(ValidationError):
        svc.update_property(w.engine, w.principal, "contacts", "company_name_sync",
                            svc.PropertyPatch(type="number"))
    assert [a for a, _ in entries(w, "contacts", pid)] == ["CREATED"]
