"""The migration scan's rules (domain/migration_scan.py): each kind of workflow, each
difference a sync property makes, what it cannot express, two-way pairs; and that no
input, however malformed, makes it raise."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from propsync.domain.associations import BUILT_IN_TYPES, AssociationType
from propsync.domain.filters import Filter
from propsync.domain.migration_scan import (
    Direction,
    Kind,
    SchemaView,
    classify,
    pair_two_way,
    reach_groups,
    scan,
)
from propsync.domain.properties import AccessRule, PropertyDefinition
from propsync.domain.sync_rule import Selection
from propsync.domain.workflows import parse_flow
from tests.integration.flows import (
    association,
    branch,
    copied,
    delay,
    equals,
    fetched,
    flow,
    known,
    set_property,
    source,
    static,
)

CONTACT_TO_COMPANY, COMPANY_TO_CONTACT, PRIMARY = 279, 280, 1


def prop(object_type: str, name: str, kind: str = "string", restricted: bool = False,
         calculated: bool = False) -> PropertyDefinition:
    access = AccessRule(frozenset({1}), None, None, None) if restricted else AccessRule()
    return PropertyDefinition(id=hash((object_type, name)) % 10_000 + 1, object_type=object_type,
                              name=name, label=name.replace("_", " ").title(), type=kind,
                              field_type="text", group_name="g", access=access,
                              calculated=calculated)


def schema(*props: PropertyDefinition, types: dict[int, AssociationType] | None = None
           ) -> SchemaView:
    by_type: dict[str, dict[str, PropertyDefinition]] = {
        t: {} for t in ("contacts", "companies", "deals", "tickets")}
    for p in props:
        by_type[p.object_type][p.name] = p
    return SchemaView(by_type, types if types is not None else dict(BUILT_IN_TYPES))


SCHEMA = schema(prop("contacts", "company_name"), prop("companies", "name"),
                prop("contacts", "city"), prop("companies", "city"),
                prop("contacts", "lifecyclestage"), prop("contacts", "employees", "number"),
                prop("companies", "numberofemployees", "number"),
                prop("companies", "secret", restricted=True),
                prop("contacts", "createdate", "datetime", calculated=True))


def copy_from(criteria: list[dict[str, Any]] | None = None, last: bool = False,
              type_id: int = CONTACT_TO_COMPANY, target: str = "company_name",
              prop_name: str = "name", **kw: Any) -> dict[str, Any]:
    return flow("contacts", [set_property("1", target, fetched("co", prop_name))],
                sources=[source("co", "companies", type_id, last=last)],
                criteria=criteria if criteria is not None else [known("createdate")], **kw)


def copy_to(criteria: list[dict[str, Any]] | None = None, reenroll: bool = True,
            **kw: Any) -> dict[str, Any]:
    return flow("companies", [set_property("1", "company_name", copied("name"),
                                           to=association(COMPANY_TO_CONTACT))],
                criteria=criteria if criteria is not None else [known("name")],
                reenroll_on=["name"] if reenroll else [], **kw)


def test_a_copy_from_an_associated_record_is_a_one_way_copy_with_its_sync_property():
    v = classify(copy_from(last=True), SCHEMA)
    assert v.kind is Kind.ONE_WAY_COPY and v.differences == ()
    p = v.proposal
    assert p is not None and p.direction is Direction.FROM
    assert (p.target_type, p.target_property, p.source_type, p.source_property) == (
        "contacts", "company_name", "companies", "name")
    assert p.association_types == (("HUBSPOT_DEFINED", CONTACT_TO_COMPANY),)
    assert p.labels == ("Unlabeled",) and p.selection is Selection.LAST_CREATED
    assert any("follows every change" in n for n in v.notes)


def test_a_data_source_without_a_sort_takes_the_first_created():
    body = copy_from()
    del body["dataSources"][0]["sortBy"]
    proposal = classify(body, SCHEMA).proposal
    assert proposal is not None and proposal.selection is Selection.FIRST_CREATED


def test_a_copy_to_associated_contacts_is_a_sync_property_on_contacts_through_the_inverse():
    v = classify(copy_to(), SCHEMA)
    assert v.kind is Kind.ONE_WAY_COPY, v
    p = v.proposal
    assert p is not None and p.direction is Direction.TO
    assert (p.target_type, p.source_type, p.source_property) == ("contacts", "companies",
                                                                  "name")
    assert p.association_types == (("HUBSPOT_DEFINED", CONTACT_TO_COMPANY),)
    assert any("several companies" in n for n in v.notes)


def test_a_copy_to_through_primary_says_nothing_of_several_sources():
    body = flow("companies", [set_property("1", "company_name", copied("name"),
                                           to=association(2))],
                criteria=[known("name")], reenroll_on=["name"])
    v = classify(body, SCHEMA)
    assert v.kind is Kind.ONE_WAY_COPY and v.proposal is not None
    assert v.proposal.association_types == (("HUBSPOT_DEFINED", PRIMARY),)
    assert v.proposal.labels == ("Primary",)
    assert not any("several" in n for n in v.notes)


def test_an_enrollment_filter_is_a_conditional_copy_explained_and_counted():
    v = classify(copy_from([equals("lifecyclestage", "customer")]), SCHEMA)
    assert v.kind is Kind.CONDITIONAL_COPY
    [d] = v.differences
    assert d.code == "ENROLLMENT_FILTER" and d.counted
    assert d.text == ("The workflow copies only for contacts with lifecyclestage = customer; "
                      "a sync property copies for every contact.")
    assert v.reach == ((Filter("lifecyclestage", "EQ", "customer"),),)


def test_filters_every_record_passes_are_no_condition():
    for criteria in ([known("createdate")], [known("hs_object_id")]):
        assert classify(copy_from(criteria), SCHEMA).kind is Kind.ONE_WAY_COPY
    # "the copied value is known" limits a copy "to" to what it can copy: no condition
    assert classify(copy_to([known("name")]), SCHEMA).kind is Kind.ONE_WAY_COPY
    # but a copy "from" reads the company's name, not the contact's
    assert classify(copy_from([known("company_name")]), SCHEMA).kind is Kind.CONDITIONAL_COPY


def test_manual_enrollment_is_a_condition():
    body = copy_from()
    body["enrollmentCriteria"] = {"type": "MANUAL", "shouldReEnroll": False}
    v = classify(body, SCHEMA)
    assert v.kind is Kind.CONDITIONAL_COPY and v.manual and v.reach is None
    assert [d.code for d in v.differences] == ["MANUAL_ENROLLMENT"]


def test_a_copy_to_that_does_not_re_enroll_on_its_value_copies_once():
    v = classify(copy_to(reenroll=False), SCHEMA)
    assert v.kind is Kind.CONDITIONAL_COPY
    assert [d.code for d in v.differences] == ["COPIES_ONCE"]
    assert "later change of its Name is not copied" in v.differences[0].text


def test_a_branch_and_a_delay_are_conditions_and_the_reach_follows_the_branch():
    body = flow("contacts", [
        branch("1", "lifecyclestage", {"customer": "2", "lead": None}, default="2"),
        delay("2", 3600, "3"),
        set_property("3", "company_name", fetched("co", "name"))],
        sources=[source("co", "companies", CONTACT_TO_COMPANY)],
        criteria=[known("createdate")])
    v = classify(body, SCHEMA)
    assert v.kind is Kind.CONDITIONAL_COPY
    assert [d.code for d in v.differences] == ["BRANCH", "DELAY"]
    assert "= customer, any other value" in v.differences[0].text
    assert "waits 1 hour" in v.differences[1].text
    known_ = Filter("createdate", "HAS_PROPERTY")
    assert v.reach == (
        (known_, Filter("lifecyclestage", "EQ", "customer")),
        (known_, Filter("lifecyclestage", "NOT_HAS_PROPERTY")),
        (known_, Filter("lifecyclestage", "NOT_IN", values=("customer", "lead"))))


def test_the_reach_of_or_ed_enrollment_groups_crosses_the_branches():
    body = flow("contacts", [branch("1", "city", {"Paris": "2"}),
                             set_property("2", "company_name", fetched("co", "name"))],
                sources=[source("co", "companies", CONTACT_TO_COMPANY)],
                criteria=[equals("lifecyclestage", "lead")])
    parsed = parse_flow(body)
    assert reach_groups(parsed, "2") == (
        (Filter("lifecyclestage", "EQ", "lead"), Filter("city", "EQ", "Paris")),)


def test_a_static_value_a_copy_within_the_record_and_several_writes_are_not_copies():
    assert classify(flow("contacts", [set_property("1", "city", static("Paris"))]),
                    SCHEMA).reasons == ("It sets the record's city to a fixed value, copying "
                                        "nothing.",)
    within = classify(flow("contacts", [set_property("1", "city", copied("company_name"))]))
    assert within.kind is Kind.NOT_A_COPY and "same record" in within.reasons[0]
    several = classify(flow("contacts", [
        set_property("1", "city", static("Paris"), "2"),
        set_property("2", "company_name", fetched("co", "name"))],
        sources=[source("co", "companies", CONTACT_TO_COMPANY)]), SCHEMA)
    assert several.kind is Kind.NOT_A_COPY and "writes 2 values" in several.reasons[0]
    assert classify(flow("contacts", [delay("1", 5)])).reasons == ("It sets no property "
                                                                   "value.",)


def test_what_a_sync_property_cannot_express_is_not_convertible_with_the_reason():
    cases = {
        "INTEGRATOR_DEFINED": copy_from(),
        "unlabeled association": flow("companies", [
            set_property("1", "city", fetched("p", "city"))],
            sources=[source("p", "companies", 450)], criteria=[known("createdate")]),
        "restricted access": copy_from(prop_name="secret"),
        "number values": copy_from(target="employees"),
        "unknown property": copy_from(prop_name="nope"),
        "does not exist in this account": copy_from(type_id=987654),
    }
    cases["INTEGRATOR_DEFINED"]["dataSources"][0]["associationCategory"] = "INTEGRATOR_DEFINED"
    for expected, body in cases.items():
        v = classify(body, SCHEMA)
        assert v.kind is Kind.NOT_CONVERTIBLE, (expected, v)
        assert v.proposal is None and any(expected in r for r in v.reasons), (expected, v)


def test_a_number_copied_into_a_number_converts():
    v = classify(copy_from(target="employees", prop_name="numberofemployees"), SCHEMA)
    assert v.kind is Kind.ONE_WAY_COPY


def test_json_that_parse_flow_refuses_is_not_convertible_with_its_message():
    body = copy_from()
    body["actions"][0]["actionTypeId"] = "0-4"  # send an e-mail
    v = classify(body, SCHEMA)
    assert v.kind is Kind.NOT_CONVERTIBLE and v.object_type == "contacts"
    assert v.reasons[0].startswith("propsync cannot read this workflow: ")
    assert "0-4" in v.reasons[0]


def test_without_a_schema_the_shape_is_judged_and_that_is_said():
    v = classify(copy_from())
    assert v.kind is Kind.ONE_WAY_COPY and "schema was not checked" in v.notes[-1]


def test_two_flows_copying_each_way_are_one_two_way_pair_left_alone():
    down = flow("companies", [set_property("1", "city", copied("city"),
                                           to=association(COMPANY_TO_CONTACT))],
                criteria=[known("city")], reenroll_on=["city"], name="Down")
    up = flow("contacts", [set_property("1", "city", copied("city"),
                                        to=association(CONTACT_TO_COMPANY))],
              criteria=[known("city")], reenroll_on=["city"], name="Up")
    alone = copy_from()
    out = dict(scan([("a", down), ("b", alone), ("c", up)], SCHEMA))
    assert out["a"].kind is Kind.TWO_WAY and out["a"].partner == "c"
    assert out["c"].kind is Kind.TWO_WAY and out["c"].partner == "a"
    assert out["a"].proposal is None and "two-way sync" in out["a"].reasons[0]
    assert "'Up'" in out["a"].reasons[0] and "'Down'" in out["c"].reasons[0]
    assert out["b"].kind is Kind.ONE_WAY_COPY


def test_a_copy_is_paired_once_even_with_two_opposite_flows():
    there = copy_to()
    back = copy_from(target="company_name")
    back_b = copy_from(target="company_name")
    # contacts.company_name ← companies.name both ways? No: these copy the same direction.
    out = dict(pair_two_way([(k, classify(b, SCHEMA))
                             for k, b in (("1", there), ("2", back), ("3", back_b))]))
    assert {v.kind for v in out.values()} == {Kind.ONE_WAY_COPY}


# --- properties -------------------------------------------------------------------------------

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=30)
KEYS = st.sampled_from(["type", "objectTypeId", "actions", "dataSources", "enrollmentCriteria",
                        "startActionId", "name", "fields", "value", "association"])


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(KEYS, JSON, max_size=6))
def test_no_json_makes_the_scan_raise(body):
    v = classify(body, SCHEMA)
    assert v.kind in (Kind.NOT_CONVERTIBLE, Kind.NOT_A_COPY)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["copy_from", "copy_to", "within", "from_last"]), max_size=6))
def test_pairing_is_symmetric_and_keeps_every_key(choices):
    bodies = {"copy_from": copy_from(), "copy_to": copy_to(), "from_last": copy_from(last=True),
              "within": flow("contacts", [set_property("1", "city", copied("company_name"))])}
    up = flow("contacts", [set_property("1", "name", copied("company_name"),
                                        to=association(CONTACT_TO_COMPANY))],
              criteria=[known("company_name")], reenroll_on=["company_name"])
    items = [(str(i), bodies[c]) for i, c in enumerate(choices)] + [("up", up)]
    out = scan(items, SCHEMA)
    assert [k for k, _ in out] == [k for k, _ in items]
    verdicts = dict(out)
    for key, v in out:
        if v.kind is Kind.TWO_WAY:
            assert v.partner is not None and verdicts[v.partner].partner == key
    assert sum(v.kind is Kind.TWO_WAY for v in verdicts.values()) in (0, 2)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([CONTACT_TO_COMPANY, PRIMARY]), st.booleans(), st.booleans())
def test_a_proposal_always_reads_from_its_target_to_its_source(type_id, last, to):
    body = (flow("companies", [set_property("1", "company_name", copied("name"),
                                            to=association(BUILT_IN_TYPES[type_id].inverse_id))],
                 criteria=[known("name")], reenroll_on=["name"]) if to
            else copy_from(type_id=type_id, last=last))
    p = classify(body, SCHEMA).proposal
    assert p is not None
    [(category, tid)] = p.association_types
    assert category == "HUBSPOT_DEFINED"
    ty = BUILT_IN_TYPES[tid]
    assert (ty.from_type, ty.to_type) == (p.target_type, p.source_type) == (
        "contacts", "companies")
    assert p.selection is (Selection.LAST_CREATED if last and not to
                           else Selection.FIRST_CREATED)
