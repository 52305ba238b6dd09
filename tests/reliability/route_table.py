"""The API's routes as the access probes call them: generated from ``app.routes``.

For every route and method, ``calls_for`` fills the path, query and body from a ``World``
(with the fillers of ``route_fillings.py``) and says which object types each call
involves: the types in its path, and those its query or body names (``?associations=``,
inline associations, a ``syncSource``, a sync property's source). A route the generator
cannot fill (a new path or query parameter, a new body or a body that gained a member)
raises ``TeachTheGenerator``, so that no new route escapes the checks; only the routes in
``PUBLIC`` are left out, each with its reason.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from tests.reliability.access_world import World
from tests.reliability.route_fillings import (
    NONE,
    PATH_FILLERS,
    QUERY_FILLERS,
    TYPE_PARAMS,
    Filling,
    Plan,
    TeachTheGenerator,
    body_builder,
)

PUBLIC = {  # path → why the access checks leave it out
    "/openapi.json": "the API's own description, public as HubSpot's is",
    "/docs": "the interactive API documentation page",
    "/docs/assets": "the documentation pages' scripts and styles (Swagger UI, ReDoc)",
    "/redoc": "the API documentation page",
    "/": "a redirect to the web UI",
    "/ui/static": "the UI's style sheet and scripts",
    "/favicon.ico": "the UI's icon, which browsers ask for without a session",
}
PUBLIC_PREFIX = ("/ui/", "the web UI: its own sign-in, session and CSRF checks (tests/ui)")


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    query: tuple[str, ...]
    body: Any  # the body's annotation, or None

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class Call:
    """One request: what it sends, and the object types it involves."""

    route: Route
    path: str
    params: dict[str, str]
    body: Any
    involves: frozenset[str]

    @property
    def sent(self) -> str:
        """Everything the caller sent, so that an echo of it is not taken for a leak."""
        return " ".join([self.path, json.dumps(self.params), json.dumps(self.body)])

    def __str__(self) -> str:
        query = "&".join(f"{k}={v if len(v) < 40 else v[:37] + '...'}"
                         for k, v in self.params.items())
        body = json.dumps(self.body) if self.body is not None else ""
        body = body if len(body) < 160 else body[:157] + "..."
        return f"{self.route.method} {self.path}{'?' + query if query else ''} {body}".strip()


def api_routes(app: FastAPI) -> list[Route]:
    """Every (method, path) the app serves outside ``PUBLIC``."""
    found = []
    for ctx in iter_route_contexts(app.routes):
        path = ctx.path or ""
        if path in PUBLIC or path.startswith(PUBLIC_PREFIX[0]):
            continue
        route = ctx.original_route
        if not isinstance(route, APIRoute):
            raise TeachTheGenerator(path, f"a {type(route).__name__} the generator cannot call")
        for kind in ("header_params", "cookie_params"):
            if _params(route.dependant, kind):
                raise TeachTheGenerator(path, f"{kind} {_params(route.dependant, kind)}")
        body = route.body_field.field_info.annotation if route.body_field else None
        for method in sorted((ctx.methods or set()) - {"HEAD"}):
            found.append(Route(method, path, tuple(_params(route.dependant, "query_params")),
                               body))
    return found


def stale_public_paths(app: FastAPI) -> list[str]:
    """Paths listed in ``PUBLIC`` that the app no longer serves."""
    served = {ctx.path for ctx in iter_route_contexts(app.routes)}
    return sorted(set(PUBLIC) - served)


def _params(dependant: Any, kind: str) -> list[str]:
    names = [p.alias for p in getattr(dependant, kind)]
    for sub in dependant.dependencies:
        names += _params(sub, kind)
    return names


def check_known(route: Route) -> None:
    """Raise ``TeachTheGenerator`` unless every parameter and the body of ``route`` are
    known to the generator."""
    names = re.findall(r"{(\w+)}", route.path)
    unknown = [n for n in names if n not in TYPE_PARAMS and n not in PATH_FILLERS]
    unknown += [n for n in route.query if n not in QUERY_FILLERS]
    if unknown:
        raise TeachTheGenerator(route.label, f"the parameter(s) {unknown}")
    body_builder(route.label, route.body)


def calls_for(route: Route, world: World, plan: Plan) -> Iterator[Call]:
    """Every call the plan asks for of ``route``, filled from the world as it is when the
    call is made (an earlier call may have archived or deleted what it named)."""
    check_known(route)
    names = re.findall(r"{(\w+)}", route.path)
    fillers = [n for n in names if n in PATH_FILLERS]
    for chosen in plan.path_types(route.label, [n for n in names if n in TYPE_PARAMS]):
        c = Filling(world, route.label, plan, chosen, {})
        counts = [len(PATH_FILLERS[n](c)) for n in fillers]
        counts += [len(QUERY_FILLERS[n](c)) for n in route.query]
        for picks in itertools.product(*(range(n) for n in counts)):
            yield from _fill(c, route, fillers, picks)


def _fill(c: Filling, route: Route, fillers: list[str], picks: tuple[int, ...]
          ) -> Iterator[Call]:
    path_part = [PATH_FILLERS[n](c)[i] for n, i in zip(fillers, picks, strict=False)]
    c.path = {n: v for n, (v, _) in zip(fillers, path_part, strict=True)}
    query_part = [QUERY_FILLERS[n](c)[i] for n, i in zip(
        route.query, picks[len(fillers):], strict=True)]
    builder = body_builder(route.label, route.body)
    for index in range(len(builder(c)) if builder else 1):
        body, body_types = builder(c)[index] if builder else (None, NONE)
        involved = {*c.types.values(), *body_types}
        for _, inv in (*path_part, *query_part):
            involved |= inv
        params = {n: v for n, (v, _) in zip(route.query, query_part, strict=True)
                  if v is not None}
        yield Call(route, route.path.format(**c.types, **c.path), params, body,
                   frozenset(involved))
