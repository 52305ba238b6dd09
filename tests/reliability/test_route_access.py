"""Every route, generated from the app's route table, called by every kind of caller.

Each caller is a token and an expectation (issue 12, point 4, and the house rule that
every endpoint gets scope, tenant and restricted-property tests):

- nobody (no token) gets 401, and a token with no scope 403, in HubSpot's error shape;
- a token with every scope but those of one type X is refused (403) on every call that
  involves X, is not refused on the others, and never sees an id, a value or a custom
  name of a type-X record or schema, in any reply;
- another account's token never sees this account's data and changes none of it;
- a user kept from a restricted property never sees one of its values.

No call may answer with a 5xx, and a refused call changes nothing. A route the generator
cannot fill fails the module (see ``route_table.py`` and ``route_fillings.py``).

Another kind of caller is one more ``Caller`` in ``CALLERS``: a token (``World.token``,
or ``World.user_token(role)`` for a new user with a role), a ``Plan`` of fillings, and an
expectation that returns what went wrong with one reply, e.g.
``Caller("a plain user", lambda w: w.user_token(Role.USER), Plan(), records_only)``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import Field
from sqlalchemy import create_engine

from propsync.api.app import create_app
from propsync.api.schemas.objects import BatchRead
from propsync.domain.auth import Role
from tests.conftest import RunningServer
from tests.reliability.access_world import TYPES, World, build_world, scopes_but
from tests.reliability.conftest import SCALE, Tally
from tests.reliability.route_fillings import PATH_FILLERS, Plan, TeachTheGenerator
from tests.reliability.route_table import (
    Call,
    Route,
    api_routes,
    calls_for,
    check_known,
    stale_public_paths,
)

pytestmark = pytest.mark.reliability

Expectation = Callable[[Call, httpx.Response, World], list[str]]
BREADTH = "all" if SCALE > 1 else "each"


@dataclass(frozen=True)
class Caller:
    """Someone calling every route: with which token, filled how, and what must hold."""

    name: str
    token: Callable[[World], str | None]
    plan: Plan
    expect: Expectation
    acts_here: bool = True  # its successful writes may change the world's account


def numbers_in(reply: httpx.Response) -> set[str]:
    """Every run of digits in the reply (the correlation id, a random one, aside)."""
    found: set[str] = set()
    try:
        _digits(reply.json(), "", found)
    except ValueError:
        found.update(re.findall(r"\d+", reply.text))
    for name, value in reply.headers.items():
        if name not in ("date", "content-length"):
            found.update(re.findall(r"\d+", value))
    return found


def _digits(value: Any, key: str, found: set[str]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _digits(k, "", found)
            _digits(v, k, found)
    elif isinstance(value, list):
        for v in value:
            _digits(v, key, found)
    elif isinstance(value, int | str) and not isinstance(value, bool) and key != "correlationId":
        found.update(re.findall(r"\d+", str(value)))


def leaks(call: Call, reply: httpx.Response, ids: frozenset[str],
          texts: frozenset[str]) -> list[str]:
    """What the reply shows of ``ids`` and ``texts`` that the caller did not send itself."""
    shown = reply.text + " " + " ".join(f"{k}: {v}" for k, v in reply.headers.items())
    sent = call.sent
    found = sorted(text for text in texts if text in shown and text not in sent)
    found += sorted((numbers_in(reply) & ids) - set(re.findall(r"\d+", sent)))
    return [f"shows {', '.join(found[:5])}"] if found else []


def error_shape(reply: httpx.Response) -> list[str]:
    """No 5xx; an error in HubSpot's shape (status, message, correlationId, category)."""
    if reply.status_code >= 500:
        return [f"a server error ({reply.status_code})"]
    if reply.status_code < 400:
        return []
    try:
        body = reply.json()
    except ValueError:
        return ["an error that is not JSON"]
    wanted = {"status": "error", "message": str, "correlationId": str, "category": str}
    wrong = [k for k, v in wanted.items()
             if not (body.get(k) == v if isinstance(v, str) else isinstance(body.get(k), v))]
    return [f"an error without HubSpot's {', '.join(wrong)}"] if wrong else []


def category(reply: httpx.Response) -> str | None:
    try:
        found = reply.json().get("category")
    except (ValueError, AttributeError):
        return None
    return found if isinstance(found, str) else None


def everything(world: World) -> tuple[frozenset[str], frozenset[str]]:
    seen = world.seen
    return (frozenset().union(*seen.ids.values()),
            frozenset().union(*seen.texts.values(), seen.secrets, seen.people))


def refused_with(status: int, categories: set[str]) -> Expectation:
    def expect(call: Call, reply: httpx.Response, world: World) -> list[str]:
        problems = [] if reply.status_code == status and category(reply) in categories else [
            f"not refused with {status} {'/'.join(sorted(categories))}"]
        return problems + leaks(call, reply, *everything(world))
    return expect


def hides(excluded: str) -> Expectation:
    """Refused exactly when the call involves ``excluded``; never shows its data."""
    def expect(call: Call, reply: httpx.Response, world: World) -> list[str]:
        problems = []
        refused = reply.status_code == 403 and category(reply) == "MISSING_SCOPES"
        if excluded in call.involves and not refused:
            problems.append(f"involves {excluded} but was not refused with 403 MISSING_SCOPES")
        if excluded not in call.involves and reply.status_code in (401, 403):
            problems.append(f"refused although it does not involve {excluded}")
        return problems + leaks(call, reply, world.seen.ids[excluded],
                                world.seen.texts[excluded])
    return expect


def isolated(call: Call, reply: httpx.Response, world: World) -> list[str]:
    """Another account: none of this account's data, and no 2xx read of an object of it."""
    problems = leaks(call, reply, *everything(world))
    names_one = any("{" + n + "}" in call.route.path for n in PATH_FILLERS)
    if call.route.method == "GET" and names_one and reply.is_success:
        problems.append("read an object of another account")
    return problems


def keeps_secrets(call: Call, reply: httpx.Response, world: World) -> list[str]:
    return leaks(call, reply, frozenset(), world.seen.secrets)


RANK = {Role.USER: 0, Role.ADMIN: 1, Role.SUPER_ADMIN: 2}


def needs(call: Call) -> Role:
    """The least role a call needs (SPEC 2): super admins change users and teams, admins
    with the property-settings permission change properties, groups, labels and
    workflows."""
    path, method = call.route.path, call.route.method
    if path.endswith("/gdpr-deletions"):  # the audit of GDPR deletes is for admins
        return Role.ADMIN
    if method == "GET":
        return Role.USER
    if path.startswith(("/propsync/v1/users", "/propsync/v1/teams")):
        return Role.SUPER_ADMIN
    if path.startswith("/propsync/v1/sandboxes"):  # creating and deleting sandboxes
        return Role.SUPER_ADMIN
    if path.startswith(("/crm/v3/properties/", "/automation/v4/flows")) and \
            path.endswith("/batch/read"):
        return Role.USER  # a read, in a POST
    # workflows, and enrolling records in them: as property settings
    if path.startswith(("/automation/v4/flows", "/propsync/v1/workflows")):
        return Role.ADMIN
    if path.startswith("/propsync/v1/reports"):  # reports: as property settings (SPEC 2)
        return Role.ADMIN
    # a migration's start and steps (not a scan, a read in a POST): as property settings
    if path.startswith("/propsync/v1/migrations") and not path.endswith("/scan"):
        return Role.ADMIN
    # label definitions (not /batch/labels/archive, which takes labels off record pairs),
    # and association limits (under HubSpot's spec's prefix and its SDK's)
    if path.startswith(("/crm/v3/properties/", "/crm/associations/v4/definitions/",
                        "/crm/v4/associations/definitions/")) or \
            re.search(r"\}/labels($|/\{)", path):
        return Role.ADMIN
    return Role.USER


def acts_as(role: Role) -> Expectation:
    """Refused (403 FORBIDDEN) exactly on the calls that need more than ``role``; a user
    who is not named by the restricted properties never sees their values."""
    def expect(call: Call, reply: httpx.Response, world: World) -> list[str]:
        wanted = needs(call)
        refused = reply.status_code == 403 and category(reply) == "FORBIDDEN"
        if RANK[wanted] > RANK[role] and not refused:
            return [f"needs {wanted.value} but was not refused with 403 FORBIDDEN"]
        if RANK[wanted] <= RANK[role] and reply.status_code in (401, 403):
            return [f"refused although a {role.value} may make it"]
        return keeps_secrets(call, reply, world)
    return expect


CALLERS = [
    Caller("nobody", lambda w: None, Plan(breadth="one"),
           refused_with(401, {"INVALID_AUTHENTICATION"})),
    Caller("a token with no scope", lambda w: w.token(""), Plan(breadth="one"),
           refused_with(403, {"MISSING_SCOPES"})),
    *(Caller(f"every scope but {x}", partial(World.token, scopes=scopes_but(x)),
             Plan(x, BREADTH), hides(x)) for x in TYPES),
    Caller("another account", lambda w: w.stranger_token, Plan(breadth=BREADTH), isolated,
           acts_here=False),
    Caller("a user kept from restricted values", lambda w: w.user_token(),
           Plan(breadth=BREADTH), keeps_secrets),
    *(Caller(f"a token of a{'n' if r is Role.ADMIN else ''} {r.value}",
             partial(World.user_token, role=r), Plan(breadth=BREADTH), acts_as(r))
      for r in (Role.USER, Role.ADMIN)),
]


@pytest.fixture(scope="module")
def world(server: RunningServer) -> World:
    return build_world(server.engine)


@pytest.fixture(scope="module")
def routes(server: RunningServer) -> list[Route]:
    return api_routes(create_app(server.engine, run_worker=False))


@contextmanager
def client_of(server: RunningServer, token: str | None) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.Client(base_url=server.base_url, timeout=30, headers=headers) as client:
        yield client


@pytest.mark.parametrize("caller", CALLERS, ids=[c.name for c in CALLERS])
def test_every_route_shows_each_caller_only_what_it_may_see(
    caller: Caller, server: RunningServer, world: World, routes: list[Route], tally: Tally
) -> None:
    token = caller.token(world)  # a new user, for some callers: before the snapshot
    world.settle()
    with client_of(server, token) as client:
        for route in routes:
            for call in calls_for(route, world, caller.plan):
                reply = client.request(route.method, call.path, params=call.params,
                                       json=call.body)
                problems = error_shape(reply) + caller.expect(call, reply, world)
                changed = route.method != "GET" and world.settle()
                if changed and not (caller.acts_here and reply.is_success):
                    problems.append("changed the account although refused")
                tally.attempt(not problems, f"{caller.name}: {'; '.join(problems)}; "
                              f"{call} → {reply.status_code} {reply.text[:200]}")


def _app() -> FastAPI:
    return create_app(create_engine("sqlite://"), run_worker=False)


def test_the_generator_knows_every_route_and_every_public_path_is_served() -> None:
    routes = api_routes(_app())
    for route in routes:
        check_known(route)
    assert len(routes) >= 38
    assert stale_public_paths(_app()) == []


class _ReadWithAssociations(BatchRead):
    associations: list[str] = Field(default_factory=list)


def _note(objectType: str, objectId: str, noteId: str) -> None:
    return None


def _revealing(objectType: str, revealing: str = "") -> None:
    return None


def _read_more(objectType: str, body: _ReadWithAssociations) -> None:
    return None


@pytest.mark.parametrize(("method", "path", "endpoint", "unknown"), [
    ("GET", "/crm/v3/objects/{objectType}/{objectId}/notes/{noteId}", _note, "noteId"),
    ("GET", "/crm/v3/objects/{objectType}/revealing", _revealing, "revealing"),
    ("POST", "/crm/v3/objects/{objectType}/batch/read-more", _read_more, "associations"),
])
def test_a_route_the_generator_cannot_fill_fails_and_says_to_teach_it(
    method: str, path: str, endpoint: Callable[..., None], unknown: str
) -> None:
    app = _app()
    app.add_api_route(path, endpoint, methods=[method])
    with pytest.raises(TeachTheGenerator, match=re.escape(unknown)) as raised:
        for route in api_routes(app):
            check_known(route)
    assert "Teach tests/reliability/route_fillings.py" in str(raised.value)
