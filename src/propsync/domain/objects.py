"""Standard object types, their HubSpot ids, and the properties every account starts with."""

from __future__ import annotations

from dataclasses import dataclass

from propsync.domain.errors import ErrorDetail, ValidationError


@dataclass(frozen=True)
class ObjectType:
    """A kind of record: ``contacts``, ``companies``, ``deals`` or ``tickets``."""

    name: str  # plural, as in the API paths
    type_id: str  # HubSpot's objectTypeId, e.g. "0-1"
    singular: str
    group: str  # the default property group
    default_properties: tuple[str, ...]  # returned when a read names none
    searchable: tuple[str, ...]  # what a search "query" looks in
    modified_name: str  # HubSpot's name of the last-modified property


OBJECT_TYPES: dict[str, ObjectType] = {
    t.name: t
    for t in (
        ObjectType(
            "contacts", "0-1", "contact", "contactinformation",
            ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"),
            ("email", "firstname", "lastname", "phone", "company"),
            "lastmodifieddate",
        ),
        ObjectType(
            "companies", "0-2", "company", "companyinformation",
            ("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"),
            ("name", "domain", "phone", "website"),
            "hs_lastmodifieddate",
        ),
        ObjectType(
            "deals", "0-3", "deal", "dealinformation",
            ("amount", "closedate", "createdate", "dealname", "dealstage",
             "hs_lastmodifieddate", "hs_object_id", "pipeline"),
            ("dealname",),
            "hs_lastmodifieddate",
        ),
        ObjectType(
            "tickets", "0-5", "ticket", "ticketinformation",
            ("content", "createdate", "hs_lastmodifieddate", "hs_object_id", "hs_pipeline",
             "hs_pipeline_stage", "hs_ticket_category", "hs_ticket_priority", "subject"),
            ("subject", "content"),
            "hs_lastmodifieddate",
        ),
    )
}

_ALIASES = {
    alias: t.name
    for t in OBJECT_TYPES.values()
    for alias in (t.name, t.singular, t.type_id, t.name.upper(), t.singular.upper())
}


def resolve_object_type(name: str) -> ObjectType:
    """The object type called ``name`` (plural, singular or HubSpot id); as HubSpot does,
    an unknown name is a 400 ("Unable to infer object type")."""
    canonical = _ALIASES.get(name) or _ALIASES.get(name.lower())
    if canonical is None:
        message = (f"Unable to infer object type from: {name!r}. Use one of: "
                   f"{', '.join(OBJECT_TYPES)}.")
        raise ValidationError(message, [ErrorDetail(message, "UNKNOWN_OBJECT_TYPE")])
    return OBJECT_TYPES[canonical]


@dataclass(frozen=True)
class DefaultProperty:
    name: str
    label: str
    type: str = "string"
    field_type: str = "text"
    options: tuple[tuple[str, str], ...] = ()  # (value, label)


# Properties computed from the record row itself: never stored as values, never writable.
CALCULATED = ("createdate", "lastmodifieddate", "hs_lastmodifieddate", "hs_object_id")

_COMMON = (
    DefaultProperty("createdate", "Create date", "datetime", "date"),
    DefaultProperty("lastmodifieddate", "Last modified date", "datetime", "date"),
    DefaultProperty("hs_object_id", "Record ID", "number", "number"),
)
_NOT_CONTACT = (DefaultProperty("hs_lastmodifieddate", "Last modified date", "datetime", "date"),)

_STAGES = (("appointmentscheduled", "Appointment scheduled"),
           ("qualifiedtobuy", "Qualified to buy"),
           ("presentationscheduled", "Presentation scheduled"),
           ("decisionmakerboughtin", "Decision maker bought-in"),
           ("contractsent", "Contract sent"), ("closedwon", "Closed won"),
           ("closedlost", "Closed lost"))

DEFAULT_PROPERTIES: dict[str, tuple[DefaultProperty, ...]] = {
    "contacts": (
        *_COMMON,
        DefaultProperty("email", "Email"),
        DefaultProperty("firstname", "First name"),
        DefaultProperty("lastname", "Last name"),
        DefaultProperty("jobtitle", "Job title"),
        DefaultProperty("phone", "Phone number"),
        DefaultProperty("company", "Company name"),
        DefaultProperty("city", "City"),
        DefaultProperty("lifecyclestage", "Lifecycle stage", "enumeration", "select", (
            ("subscriber", "Subscriber"), ("lead", "Lead"), ("customer", "Customer"))),
    ),
    "companies": _COMMON + _NOT_CONTACT + (
        DefaultProperty("name", "Company name"),
        DefaultProperty("domain", "Company domain name"),
        DefaultProperty("industry", "Industry"),
        DefaultProperty("city", "City"),
        DefaultProperty("phone", "Phone number"),
        DefaultProperty("website", "Website URL"),
        DefaultProperty("numberofemployees", "Number of employees", "number", "number"),
        DefaultProperty("annualrevenue", "Annual revenue", "number", "number"),
    ),
    "deals": _COMMON + _NOT_CONTACT + (
        DefaultProperty("dealname", "Deal name"),
        DefaultProperty("amount", "Amount", "number", "number"),
        DefaultProperty("dealstage", "Deal stage", "enumeration", "radio", _STAGES),
        DefaultProperty("pipeline", "Pipeline", "enumeration", "select",
                        (("default", "Sales pipeline"),)),
        DefaultProperty("closedate", "Close date", "datetime", "date"),
    ),
    "tickets": _COMMON + _NOT_CONTACT + (
        DefaultProperty("subject", "Ticket name"),
        DefaultProperty("content", "Ticket description", "string", "textarea"),
        DefaultProperty("hs_pipeline", "Pipeline", "enumeration", "select",
                        (("0", "Support pipeline"),)),
        DefaultProperty("hs_pipeline_stage", "Ticket status", "enumeration", "select", (
            ("1", "New"), ("2", "Waiting on contact"), ("3", "Waiting on us"), ("4", "Closed"))),
        DefaultProperty("hs_ticket_category", "Category", "enumeration", "select", (
            ("PRODUCT_ISSUE", "Product issue"), ("BILLING_ISSUE", "Billing issue"),
            ("FEATURE_REQUEST", "Feature request"), ("GENERAL_INQUIRY", "General inquiry"))),
        DefaultProperty("hs_ticket_priority", "Priority", "enumeration", "select", (
            ("LOW", "Low"), ("MEDIUM", "Medium"), ("HIGH", "High"))),
    ),
}
