"""The copy workflow HubSpot users build (``domain/copy_flows``), in HubSpot's flow shape:
the bench's and the demo's are this one."""

from __future__ import annotations

from propsync.bench.workflow import COMPANY_TO_CONTACT_PRIMARY, COPY_NAME, flow_definition
from propsync.domain.associations import BUILT_IN_TYPES
from propsync.domain.copy_flows import copy_to_associated
from propsync.domain.filters import Filter
from propsync.domain.workflows import (
    AssociatedTarget,
    EnrolledProperty,
    SetProperty,
    parse_flow,
)


def test_the_copy_writes_the_company_name_to_its_primary_contacts():
    primary = BUILT_IN_TYPES[COMPANY_TO_CONTACT_PRIMARY]
    assert (primary.from_type, primary.to_type, primary.label) == (
        "companies", "contacts", "Primary")
    flow = parse_flow(flow_definition())
    assert (flow.object_type, flow.flow_type, flow.enabled) == (
        "companies", "PLATFORM_FLOW", True)
    assert list(flow.actions.values()) == [SetProperty(
        "1", COPY_NAME, EnrolledProperty("name"),
        AssociatedTarget("HUBSPOT_DEFINED", COMPANY_TO_CONTACT_PRIMARY), None)]


def test_a_company_enrolls_when_its_name_is_known_and_again_when_it_changes():
    enrollment = parse_flow(flow_definition()).enrollment
    assert enrollment.kind == "LIST_BASED"
    assert enrollment.groups == ((Filter("name", "HAS_PROPERTY"),),)
    assert enrollment.should_re_enroll and enrollment.re_enroll_on == {"name"}
    assert not enrollment.unenroll_not_meeting


def test_the_demo_copies_the_industry_and_a_copy_may_be_saved_turned_off():
    from propsync.services.demo import COPY_PROPERTY, copy_flow_definition

    flow = parse_flow(copy_flow_definition())
    assert [a.value for a in flow.actions.values()] == [EnrolledProperty("industry")]
    assert [a.property_name for a in flow.actions.values()] == [COPY_PROPERTY]
    assert flow.enrollment.re_enroll_on == {"industry"}
    off = parse_flow(copy_to_associated("Off", "0-1", "firstname", "x", 1, enabled=False))
    assert (off.object_type, off.enabled) == ("contacts", False)
