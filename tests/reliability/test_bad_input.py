"""Probe: bad input never gives a 5xx, on either store.

The corpus is a program over the route table (``app.routes`` of ``create_app``), so a new
route is probed without editing this file. For every API route and method:

- each path parameter gets hostile ids: always ``²`` and the Arabic-Indic one (which
  ``str.isdigit`` admits), `` 1`` and ``00001`` (which ``int`` admits), and some of: 19
  digits, signs, NUL, a lone surrogate, broken UTF-8, very long text...;
- each query parameter gets some of those, and hostile text;
- a sample body is made from the route's OpenAPI schema (and a few bodies the schema
  alone does not reach: a date filter, 500 values on a sync property, 1,000 sorts, a
  60,000-character query), then each position in turn gets some of: NUL, a lone
  surrogate (as the raw JSON escape), 100 kB of text, date-times outside years 1-9999
  once in UTC, wrong JSON types; each list gets 101 + 400 x SCALE items; whole bodies are nested
  50,000 deep, huge arrays, or not JSON.

The UI's pages get the same ids in their paths and hostile query values, and the record
pages' forms hostile values, signed in with a session cookie. "Some of" is a fixed sample
that grows with ``SCALE``.

A try fails when the answer is a 5xx or the connection drops, or when an API answer in the
4xx range is not in HubSpot's error shape.
"""

from __future__ import annotations

import itertools
import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from propsync.api.app import create_app
from tests.conftest import Tenant
from tests.e2e.ui_session import sign_in
from tests.reliability.conftest import SCALE, Tally

pytestmark = pytest.mark.reliability

PRIMARY = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}
LONG = "x" * 100_000
# Ids no record can have: every entry point must answer as for an id that does not exist.
# The first four (the 500s and loose readings found from outside) go in every parameter.
HOSTILE_IDS = ["²", "\u0661", " 1", "00001", "1 ", "0", "-1", "+1", "1e3", "1.0", "0x1",
               "9" * 19, "1" * 200, "\x00", "1\x00", "\ud800", "😀", "..", "x" * 20_000]
ALWAYS = 4
RAW_SEGMENTS = ["%FF", "%C0%AF", "%"]  # not UTF-8, or not an escape at all
HOSTILE_TEXT = ["a\x00b", "\ud800", "x\udfff", LONG, "9999-12-31T23:59:59-01:00",
                "0001-01-01T00:00:00+01:00", "99999999999999999", "-99999999999999",
                "²", "\u0661", " 1", "00001", "", "1e309", "NaN", "\u202e", "%_*"]
WRONG_TYPES: list[Any] = [None, True, 0, -1, 2**63, -(2**63) - 1, 10**40, 1e308, 1.5, [],
                          {}, [1, "a"], {"a": {"b": None}}]
DEEP = 50_000  # nesting depth of the deepest JSON sent


@dataclass
class World:
    """What the probe's valid parts name: records, a label (beside a sync property) and a
    workflow (on, so its pages show counts, a run log and what turning it off cancels)."""

    contact: str
    company: str
    label_id: int
    flow_id: str = ""
    report_id: str = ""


def _make_world(tenant: Tenant) -> World:
    api = tenant.client
    company = api.post("/crm/v3/objects/companies", json={"properties": {"name": "Acme",
                                                                         "city": "Oslo"}})
    contact = api.post("/crm/v3/objects/contacts", json={
        "properties": {"email": "probe@example.com", "firstname": "Probe"},
        "associations": [{"to": {"id": company.json()["id"]}, "types": [PRIMARY]}]})
    for body in ({"name": "probe_when", "label": "Probe when", "type": "datetime",
                  "fieldType": "date", "groupName": "contactinformation"},
                 {"name": "company_city", "label": "Company city",
                  "groupName": "contactinformation", "syncSource": {
                      "objectType": "companies", "propertyName": "city",
                      "associationTypes": [PRIMARY]}}):
        assert api.post("/crm/v3/properties/contacts", json=body).status_code == 201
    label = api.post("/crm/v4/associations/contacts/companies/labels",
                     json={"label": "Probe", "name": "probe"})
    flow = api.post("/automation/v4/flows", json=PROBE_FLOW)
    assert flow.status_code == 201, flow.text
    report = api.post("/propsync/v1/reports", json=PROBE_REPORT)
    assert report.status_code == 201, report.text
    return World(contact.json()["id"], company.json()["id"],
                 int(label.json()["results"][0]["typeId"]), flow.json()["id"],
                 report.json()["id"])


# A contact report: counts by month of a date-time property, filtered by a sync property.
PROBE_REPORT = {"name": "Probe", "objectType": "contacts", "groupBy": "probe_when",
                "dateBucket": "WEEK", "filterBranch": {"filterBranchType": "AND", "filters": [{
                    "filterType": "PROPERTY", "property": "company_city", "operation": {
                        "operationType": "MULTISTRING", "operator": "IS_ANY_OF",
                        "values": ["Oslo"]}}]}}


# A contact workflow that enrolls on the first name and sets the job title.
PROBE_FLOW = {
    "type": "CONTACT_FLOW", "objectTypeId": "0-1", "flowType": "WORKFLOW", "name": "Probe",
    "isEnabled": True, "startActionId": "1", "actions": [{
        "type": "SINGLE_CONNECTION", "actionId": "1", "actionTypeId": "0-5", "fields": {
            "property_name": "jobtitle", "value": {"type": "STATIC_VALUE",
                                                   "staticValue": "Probed"}}}],
    "enrollmentCriteria": {"type": "LIST_BASED", "shouldReEnroll": False,
                           "listFilterBranch": {"filterBranchType": "AND", "filters": [{
                               "filterType": "PROPERTY", "property": "firstname",
                               "operation": {"operationType": "ALL_PROPERTY",
                                             "operator": "IS_KNOWN"}}]}}}


# -- the answers -------------------------------------------------------------------------


def _hubspot_shape(reply: httpx.Response) -> bool:
    try:
        body = reply.json()
    except ValueError:
        return False
    if not isinstance(body, dict):
        return False
    fields_ok = body.get("status") == "error" and all(
        isinstance(body.get(k), str) and body[k] for k in ("message", "correlationId",
                                                             "category"))
    errors = body.get("errors", [])
    return fields_ok and isinstance(errors, list) and all(
        isinstance(e, dict) and isinstance(e.get("message"), str) for e in errors)


class Prober:
    """Sends tries and tallies them; a new connection after one drops."""

    def __init__(self, tally: Tally, base_url: str, headers: dict[str, str]) -> None:
        self.tally, self.base_url, self.headers = tally, base_url, headers
        self.csrf = ""  # the UI's form token, once signed in
        self.client = httpx.Client(base_url=base_url, headers=headers, timeout=60)

    def _connect(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, headers=self.headers, timeout=60,
                            cookies=self.client.cookies)

    def send(self, method: str, url: str, what: str, ui: bool = False, **kwargs: Any) -> None:
        try:
            reply = self.client.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            self.tally.attempt(False, f"{what}: connection failed ({exc.__class__.__name__})")
            self.client.close()
            self.client = self._connect()
            return
        if reply.status_code >= 500:
            self.tally.attempt(False, f"{what}: {reply.status_code} {reply.text[:200]}")
        elif not ui and reply.status_code >= 400 and not _hubspot_shape(reply):
            self.tally.attempt(False, f"{what}: {reply.status_code} not in HubSpot's shape: "
                                      f"{reply.text[:200]}")
        else:
            self.tally.attempt(True, what)

    def close(self) -> None:
        self.client.close()


# -- the routes --------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # with {placeholders}
    params: tuple[str, ...]  # query parameter names
    body: dict[str, Any] | None  # the request body's JSON schema, if it takes one

    @property
    def placeholders(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.path)

    @property
    def destructive(self) -> bool:
        return self.method == "DELETE" or any(w in self.path for w in ("archive", "merge"))


def _operations(engine: Any) -> tuple[list[Operation], list[Operation], dict[str, Any]]:
    """The API's operations (with body schemas from the OpenAPI document), the UI's, and
    the document's component schemas."""
    app = create_app(engine, run_worker=False)
    document = app.openapi()
    api, ui = [], []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or context.path is None:
            continue
        params = tuple(p.alias for p in route.dependant.query_params)
        for method in sorted(context.methods or ()):
            if context.path.startswith("/ui/"):
                ui.append(Operation(method, context.path, params, None))
                continue
            spec = document["paths"].get(context.path, {}).get(method.lower(), {})
            schema = spec.get("requestBody", {}).get("content", {}).get(
                "application/json", {}).get("schema")
            api.append(Operation(method, context.path, params, schema))

    def order(o: Operation) -> tuple[bool, str, str]:
        return o.destructive, o.path, o.method

    components = document.get("components", {}).get("schemas", {})
    return sorted(api, key=order), sorted(ui, key=order), components


def _path_values(world: World) -> dict[str, str]:
    return {"objectType": "contacts", "fromObjectType": "contacts", "toObjectType": "companies",
            "objectId": world.contact, "fromObjectId": world.contact, "recordId": world.contact,
            "toObjectId": world.company, "propertyName": "company_city", "name": "company_city",
            "groupName": "contactinformation", "associationTypeId": str(world.label_id),
            "flowId": world.flow_id, "reportId": world.report_id}


def _url(op: Operation, values: dict[str, str], hostile: tuple[str, str] | None = None) -> str:
    """The path with every placeholder filled (already quoted), one of them hostile."""
    url = op.path
    for name in op.placeholders:
        segment = hostile[1] if hostile and hostile[0] == name else _quoted(
            values.get(name, "x"))
        url = url.replace("{" + name + "}", segment)
    return url


def _quoted(text: str) -> str:
    """``text`` percent-encoded as UTF-8, a lone surrogate included (as ``%ED%A0%80``)."""
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def _query(fields: dict[str, str]) -> str:
    return "&".join(f"{_quoted(k)}={_quoted(v)}" for k, v in fields.items())


def _segments(n: int, key: str) -> list[str]:
    """Hostile path segments: the ``ALWAYS`` ids, and ``n`` of the others."""
    others = [_quoted(x) for x in HOSTILE_IDS[ALWAYS:]] + RAW_SEGMENTS
    return [_quoted(x) for x in HOSTILE_IDS[:ALWAYS]] + _some(others, n, key)


def _some(items: list[Any], n: int, key: str) -> list[Any]:
    """``n`` of ``items`` (all of them when ``n`` covers them), chosen the same way each run."""
    if n >= len(items):
        return list(items)
    return random.Random(key).sample(items, n)


# -- sample bodies from the OpenAPI schema, then hostile variants -------------------------

_GOOD_TEXT = {"propertyName": "firstname", "operator": "EQ", "associationCategory":
              "HUBSPOT_DEFINED", "type": "string", "fieldType": "text", "groupName":
              "contactinformation", "objectType": "companies", "name": "probe_new",
              "label": "Probe new", "direction": "ASCENDING"}


class Samples:
    """Valid-looking bodies made from a JSON schema (``$ref``s read from ``components``)."""

    def __init__(self, components: dict[str, Any], world: World) -> None:
        self.components, self.world = components, world

    def make(self, schema: dict[str, Any], key: str = "") -> Any:
        if "$ref" in schema:
            return self.make(self.components[schema["$ref"].rsplit("/", 1)[1]], key)
        if "anyOf" in schema:
            options = [s for s in schema["anyOf"] if s.get("type") != "null"]
            return self.make(options[0], key) if options else None
        if "enum" in schema:
            return schema["enum"][0]
        return self._typed(schema, key)

    def _typed(self, schema: dict[str, Any], key: str) -> Any:
        kind = schema.get("type")
        if kind == "object":
            props = schema.get("properties", {})
            if not props:
                return {"firstname": "Probe"}
            return {name: self.make(sub, name) for name, sub in props.items()}
        if kind == "array":
            return [self.make(schema.get("items", {}), key)]
        if kind == "integer":
            return 1
        if kind == "number":
            return 1.5
        if kind == "boolean":
            return False
        if key.lower().endswith("id") or key == "objectIdToMerge":
            return self.world.contact
        return _GOOD_TEXT.get(key, "probe")


def _leaves(data: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every position in ``data`` (containers too; of a list, its first item), as paths of
    keys and indexes."""
    yield path, data
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(data, list) and data:
        yield from _leaves(data[0], (*path, 0))


def _replace(data: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = dict(data) if isinstance(data, dict) else list(data)
    copy[path[0]] = _replace(data[path[0]], path[1:], new)
    return copy


def _encoded(body: Any) -> bytes:
    """JSON with ASCII escapes, so a lone surrogate travels as the raw escape ``\\ud800``."""
    return json.dumps(body, ensure_ascii=True).encode()


def _variants(sample: Any, key: str) -> Iterator[tuple[str, bytes]]:
    """Hostile variants of ``sample``: each position gets hostile text or a wrong type; each
    list gets huge; and the whole body is replaced by deep nesting or a huge array."""
    yield "deeply nested", b"[" * DEEP + b"]" * DEEP
    yield "huge array", _encoded([sample] * (500 * SCALE))
    yield "not JSON", b'{"a": '
    for path, value in _leaves(sample):
        if not path:
            continue
        where = "/".join(map(str, path))
        choices: list[Any] = HOSTILE_TEXT + WRONG_TYPES
        for bad in _some(choices, 3 * SCALE, f"{key}{where}"):
            yield f"{where}={bad!r:.40}", _encoded(_replace(sample, path, bad))
        if isinstance(value, list) and value:
            many = [value[0]] * (101 + 400 * SCALE)
            yield f"{where} x{len(many)}", _encoded(_replace(sample, path, many))
        if isinstance(value, dict | list):
            nest = b"[" * DEEP + b"]" * DEEP
            yield f"{where} nested", _encoded(_replace(sample, path, "@@")).replace(
                b'"@@"', nest)


# Bodies the schema alone does not reach: values that must be parsed by the property's type,
# a sync property's indexed IN, many sorts, a long query.
def _extra_bodies(op: Operation) -> list[Any]:
    if op.path.endswith("/search"):
        when = {"propertyName": "probe_when", "operator": "GT", "value": "2020-01-01"}
        synced = {"propertyName": "company_city", "operator": "IN",
                  "values": [f"city {i}" for i in range(500)]}
        return [{"filterGroups": [{"filters": [when]}]},
                {"filterGroups": [{"filters": [synced]}]},
                {"sorts": ["firstname"] * 1000}, {"query": "q" * 60_000},
                {"query": "probe", "sorts": [{"propertyName": "probe_when"}], "limit": 200}]
    if op.method in ("POST", "PATCH") and op.path.endswith(("/{objectType}", "/{objectId}")):
        return [{"properties": {"probe_when": "2020-01-01T00:00:00Z", "firstname": "x"}}]
    return []


# -- the probe ---------------------------------------------------------------------------


@pytest.fixture
def world(tenant: Tenant) -> World:
    return _make_world(tenant)


def test_no_bad_input_gives_a_server_error(tenant: Tenant, world: World, tally: Tally):
    api_ops, ui_ops, components = _operations(tenant.server.engine)
    samples = Samples(components, world)
    prober = Prober(tally, tenant.server.base_url, {"Authorization": f"Bearer {tenant.token}"})
    try:
        for op in api_ops:
            body = samples.make(op.body) if op.body is not None else None
            _probe_paths(prober, op, world, body)
            _probe_params(prober, op, world)
            _probe_bodies(prober, op, world, body)
    finally:
        prober.close()
    ui = _signed_in(tenant, tally)
    try:
        for op in ui_ops:
            _probe_ui(ui, op, world)
    finally:
        ui.close()
    assert tally.tried > 500


JSON = {"content-type": "application/json"}


def _probe_paths(prober: Prober, op: Operation, world: World, body: Any) -> None:
    values = _path_values(world)
    content = _encoded(body) if body is not None else None
    for name in op.placeholders:
        for segment in _segments(2 * SCALE, f"{op.method}{op.path}{name}"):
            prober.send(op.method, _url(op, values, (name, segment)),
                        f"{op.method} {op.path} {name}={segment[:30]}", content=content,
                        headers=JSON if content else None)


def _probe_params(prober: Prober, op: Operation, world: World) -> None:
    url = _url(op, _path_values(world))
    for name in op.params:
        hostile = [h for h in HOSTILE_IDS + HOSTILE_TEXT if len(h) < 30_000]  # a URL's length
        hostile.append(",".join(f"p{i}" for i in range(5000)))
        for value in _some(hostile, 3 * SCALE, f"{op.method}{op.path}?{name}"):
            prober.send(op.method, f"{url}?{_query({name: value})}",
                        f"{op.method} {op.path} ?{name}={value[:30]!r}")


def _probe_bodies(prober: Prober, op: Operation, world: World, body: Any) -> None:
    if op.body is None:
        return
    url = _url(op, _path_values(world))
    for index, sample in enumerate([body, *_extra_bodies(op)]):
        content = _encoded(sample)
        if index:  # an extra body as it is; then its hostile variants, if it is small
            prober.send(op.method, url, f"{op.method} {op.path} extra {index}",
                        content=content, headers=JSON)
        if len(content) > 2_000:
            continue
        for what, variant in _variants(sample, f"{op.method}{op.path}{index}"):
            prober.send(op.method, url, f"{op.method} {op.path} {what}", content=variant,
                        headers=JSON)


# -- the UI ------------------------------------------------------------------------------


def _signed_in(tenant: Tenant, tally: Tally) -> Prober:
    """A prober of the UI, signed in as a new user of the tenant's account."""
    session = sign_in(tenant)
    ui = Prober(tally, tenant.server.base_url, {})
    ui.client.close()
    ui.client, ui.csrf = session.client, session.csrf
    return ui


def _form_values(world: World) -> Iterator[dict[str, str]]:
    names = ["firstname", "probe_when", "company_city", "\x00", "x" * 5000]
    values = HOSTILE_TEXT + HOSTILE_IDS
    for name, value in itertools.product(names, values):
        yield {"property": name, "value": value, "to_type": "companies", "to_id": value,
               "label_ids": str(world.label_id)}


def _probe_ui(ui: Prober, op: Operation, world: World) -> None:
    """Hostile ids in a page's path, hostile query values, and hostile record forms."""
    values = _path_values(world)
    if op.method == "POST" and "recordId" not in op.placeholders:
        return  # sign-in, sign-out and the wizard: not pages of a record
    forms = list(_form_values(world))
    for name in op.placeholders:
        for segment in _segments(3 * SCALE, f"UI{op.method}{op.path}{name}"):
            ui.send(op.method, _url(op, values, (name, segment)),
                    f"UI {op.method} {op.path} {name}={segment[:30]}", ui=True,
                    **(_posted(ui, forms[0]) if op.method == "POST" else {}))
    for name in op.params:
        hostile = [h for h in HOSTILE_IDS + HOSTILE_TEXT if len(h) < 30_000]
        for value in _some(hostile, 4 * SCALE, f"UI{op.path}?{name}"):
            ui.send(op.method, f"{_url(op, values)}?{_query({name: value})}",
                    f"UI {op.method} {op.path} ?{name}={value[:30]!r}", ui=True)
    if op.method == "POST":
        for form in _some(forms, 8 * SCALE, f"UI{op.path}form"):
            ui.send("POST", _url(op, values), f"UI POST {op.path} {form['value'][:30]!r}",
                    ui=True, **_posted(ui, form))


def _posted(ui: Prober, fields: dict[str, str]) -> dict[str, Any]:
    """A form body with the session's CSRF token (encoded here: it may hold surrogates)."""
    return {"content": _query({**fields, "csrf": ui.csrf}),
            "headers": {"content-type": "application/x-www-form-urlencoded"}}
