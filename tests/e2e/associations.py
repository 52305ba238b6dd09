"""Helpers for the association tests over HTTP: records, pairs, labels, the SDK's parser."""

from __future__ import annotations

import httpx

PRIMARY = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}


CONTACTS_COMPANIES = "/crm/v4/associations/contacts/companies"


def make(api: httpx.Client, object_type: str, **props: str) -> str:
    return api.post(f"/crm/v3/objects/{object_type}", json={"properties": props}).json()["id"]


def types_between(api: httpx.Client, contact: str, company: str) -> set[int]:
    results = api.get(f"/crm/v4/objects/contacts/{contact}/associations/companies").json()
    return {t["typeId"] for r in results["results"] if str(r["toObjectId"]) == company
            for t in r["associationTypes"]}


class _Raw:
    """What the SDK's deserializer reads from an HTTP response."""

    def __init__(self, reply: httpx.Response) -> None:
        self.data = reply.content


def sdk_parse(reply: httpx.Response, model: str, schema: bool = False) -> object:
    """Deserialize ``reply`` as the official SDK does; raises if a required member is wrong."""
    if schema:
        from hubspot.crm.associations.v4.schema import ApiClient as SchemaClient
        return SchemaClient().deserialize(_Raw(reply), model)
    from hubspot.crm.associations.v4 import ApiClient
    return ApiClient().deserialize(_Raw(reply), model)


def labelled(api: httpx.Client, contact: str, company: str, *type_ids: int,
             category: str = "HUBSPOT_DEFINED") -> httpx.Response:
    return api.put(f"/crm/v4/objects/contacts/{contact}/associations/companies/{company}",
                   json=[{"associationCategory": category, "associationTypeId": i}
                         for i in type_ids])


def new_label(api: httpx.Client, name: str, **extra: str) -> int:
    reply = api.post(f"{CONTACTS_COMPANIES}/labels", json={"label": name.title(), "name": name,
                                                           **extra})
    assert reply.status_code == 200, reply.text
    return int(reply.json()["results"][0]["typeId"])


def primaries_of(api: httpx.Client, contact: str) -> list[int]:
    page = api.get(f"/crm/v4/objects/contacts/{contact}/associations/companies").json()
    return [r["toObjectId"] for r in page["results"]
            if any(t["typeId"] == 1 for t in r["associationTypes"])]
