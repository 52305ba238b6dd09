"""What every page shares: the signed-in context, forms with CSRF, templates, errors.

Pages are an adapter like the API: a handler turns a request into service calls and
renders a template. Errors the services raise (``PropsyncError``) are shown as a page
or inline message in their own words, never as a stack trace.
"""

from __future__ import annotations

import inspect
import json
import logging
import secrets
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, quote

from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from propsync.domain.auth import Principal
from propsync.domain.errors import AuthenticationError, PropsyncError
from propsync.domain.objects import OBJECT_TYPES
from propsync.services import sandboxes
from propsync.services import sessions as live_sessions
from propsync.services.users import principal_of
from propsync.web import session as sessions
from propsync.web.proxy import wants_secure_cookies
from propsync.web.session import Session

log = logging.getLogger("propsync.web")
HERE = Path(__file__).parent
TEMPLATES = Environment(loader=FileSystemLoader(HERE / "templates"),
                        autoescape=select_autoescape(["html"]), trim_blocks=True,
                        lstrip_blocks=True)
RECORD_TYPES = tuple(OBJECT_TYPES)
# The properties that name a record, in the order a title is made of them.
TITLE_PROPERTIES: dict[str, tuple[str, ...]] = {
    "contacts": ("firstname", "lastname", "email"), "companies": ("name", "domain"),
    "deals": ("dealname",), "tickets": ("subject",)}


# The notices a page shows after a change, by the key its address carries (?notice=saved):
# only words propsync chose, so a link cannot make a page say something else.
NOTICES = {"saved": "Saved.", "association-added": "Association added.",
           "labels-saved": "Labels saved.", "association-removed": "Association removed.",
           "token-revoked": "Token revoked: requests with it are refused from now on."}


def notice_text(key: str) -> str:
    """The notice ``key`` stands for; nothing for a key propsync does not know."""
    return NOTICES.get(key, "")


class Redirect(Exception):
    """Answer with a 303 to ``location``."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


class CsrfRefused(Exception):
    """A POST without this session's CSRF token."""


class Form:
    """A parsed ``application/x-www-form-urlencoded`` body."""

    def __init__(self, fields: Mapping[str, list[str]]) -> None:
        self.fields = dict(fields)

    def get(self, name: str, default: str = "") -> str:
        values = self.fields.get(name)
        return values[-1].strip() if values else default

    def getlist(self, name: str) -> list[str]:
        return [v.strip() for v in self.fields.get(name, [])]


@dataclass(frozen=True)
class Ctx:
    """A signed-in request: the engine, the session and the principal acting."""

    request: Request
    engine: Engine
    session: Session
    principal: Principal


def current_session(request: Request) -> Session:
    """The request's session; a new anonymous one (stored on answer) if it has none, or if
    its signed-in session has ended. May read the database: call it from a thread."""
    found = getattr(request.state, "session", None)
    if isinstance(found, Session):
        return found
    decoded = sessions.decode(request.cookies.get(sessions.COOKIE), _secret(request))
    if decoded is not None and decoded.session_id is not None:
        decoded = _resumed(request, decoded)
    if decoded is None:
        decoded = Session.anonymous()
        request.state.new_session = decoded
    request.state.session = decoded
    return decoded


def _resumed(request: Request, claim: Session) -> Session | None:
    assert claim.account_id is not None and claim.session_id is not None
    live = live_sessions.resume(request.app.state.engine, claim.account_id, claim.session_id)
    if live is None:
        return None
    return Session(live.csrf, claim.account_id, live.user_id, claim.issued_s, live.session_id)


def start_session(request: Request, session: Session) -> None:
    """Replace the request's session; the answer carries the new cookie."""
    request.state.session = session
    request.state.new_session = session


def _secret(request: Request) -> bytes:
    secret: bytes = request.app.state.session_secret
    return secret


def signed_in(request: Request) -> Ctx:
    """The signed-in context, or a redirect to the sign-in page."""
    session = current_session(request)
    engine: Engine = request.app.state.engine
    target = f"/ui/login?next={quote(str(request.url.path))}"
    if not session.signed_in:
        raise Redirect(target)
    assert session.account_id is not None and session.user_id is not None
    try:
        principal = principal_of(engine, session.account_id, session.user_id)
    except AuthenticationError:
        if session.session_id:
            live_sessions.end(engine, session.account_id, session.session_id)
        start_session(request, Session.anonymous())
        raise Redirect(target) from None
    request.state.principal = principal  # pages show only what the role may do
    request.state.sandbox_of = sandboxes.source_of(engine, principal.account_id)
    return Ctx(request, engine, session, principal)


async def posted_form(request: Request) -> Form:
    """The POSTed form, refused unless it carries this session's CSRF token."""
    body = (await request.body()).decode("utf-8", errors="replace")
    form = Form(parse_qs(body, keep_blank_values=True))
    session = await run_in_threadpool(current_session, request)
    if not session.accepts(form.get("csrf")):
        raise CsrfRefused()
    return form


CtxDep = Annotated[Ctx, Depends(signed_in)]
FormDep = Annotated[Form, Depends(posted_form)]


def render(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    """The page ``template`` with the values every page needs."""
    session = current_session(request)
    html = TEMPLATES.get_template(template).render(
        csrf=session.csrf, signed_in=session.signed_in, path=request.url.path,
        record_types=RECORD_TYPES, viewer=getattr(request.state, "principal", None),
        sandbox_of=getattr(request.state, "sandbox_of", None), **values)
    return HTMLResponse(html, status_code=status)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return render(request, "error.html", status=status, status_code=status, message=message)


# What an error the router or the static files raise means to a person reading a page.
PAGE_MESSAGES = {404: "There is no page at this address. It may have moved, or the link "
                      "may be mistyped.",
                 405: "This page cannot be used that way. Go back and use its links and "
                      "buttons."}
KEPT_HEADERS = ("allow", "retry-after")


def is_ui_path(path: str) -> bool:
    return path == "/ui" or path.startswith("/ui/")


def install_error_pages(app: FastAPI) -> None:
    """Errors raised outside a page's handler (an unknown address under ``/ui``, a method a
    page does not answer, a missing static file, a server too busy) are answered with a
    page in the UI's layout for ``/ui`` addresses; the API keeps its JSON. Each of the
    app's error handlers is wrapped: its answer gives the status, headers and message."""
    for key, handler in list(app.exception_handlers.items()):
        app.exception_handlers[key] = _as_page(handler)


def _as_page(handler: Callable[..., Any]) -> Callable[..., Coroutine[Any, Any, Response]]:
    async def answer(request: Request, exc: Exception) -> Response:
        found = handler(request, exc)
        api: Response = await found if inspect.isawaitable(found) else found
        if not is_ui_path(request.url.path):
            return api
        message = PAGE_MESSAGES.get(api.status_code) or _message_of(api)
        try:
            page = await run_in_threadpool(error_page, request, api.status_code, message)
        except Exception:  # the page needs the database; when that fails, the JSON goes
            log.exception("no error page for %s", request.url.path)
            return api
        for name in KEPT_HEADERS:
            if name in api.headers:
                page.headers[name] = api.headers[name]
        return page

    return answer


def _message_of(api: Response) -> str:
    try:
        said = json.loads(bytes(api.body)).get("message")
    except (ValueError, AttributeError):
        said = None
    return said if isinstance(said, str) and said else "That did not work. Try again."


class WebRoute(APIRoute):
    """A page route: redirects, refusals and service errors become pages; the session
    cookie is (re)issued when the session changed."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                response = await original(request)
            except Redirect as jump:
                response = RedirectResponse(jump.location, status_code=303)
            except CsrfRefused:
                response = error_page(request, 403, "This form has expired or did not come "
                                      "from propsync. Go back, reload the page and try again.")
            except PropsyncError as exc:
                response = error_page(request, exc.status, exc.message)
            except Exception:  # a bug: logged, and shown as a page rather than JSON
                log.exception("unexpected error on %s", request.url.path)
                response = error_page(request, 500, "Something went wrong inside propsync; "
                                      "nothing more was changed. Try again, or reload the page.")
            _store_session(request, response)
            return response

        return handler


def _store_session(request: Request, response: Response) -> None:
    new = getattr(request.state, "new_session", None)
    if isinstance(new, Session):
        response.set_cookie(sessions.COOKIE, sessions.encode(new, _secret(request)),
                            max_age=sessions.MAX_AGE_S, httponly=True, samesite="lax", path="/",
                            secure=wants_secure_cookies(request))


def new_secret(configured: str | None) -> bytes:
    """The server secret that signs sessions: the configured one, or a random one."""
    return configured.encode() if configured else secrets.token_bytes(32)


def when(ms: int | None) -> Markup | str:
    """Epoch milliseconds as a ``<time>`` element: its ``datetime`` is the instant in UTC,
    and app.js shows it in the browser's own time zone and locale (without script the
    element still reads as a UTC date and time, so every time on a page agrees)."""
    if not ms:
        return "—"
    at = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return Markup(f'<time datetime="{at:%Y-%m-%dT%H:%M:%SZ}" data-local-time>'
                  f'{at:%Y-%m-%d %H:%M:%S} UTC</time>')


def shown_value(value: str | None, property_type: str) -> Markup | str:
    """A stored value as a page shows it: a ``datetime`` property's instant as a ``<time>``
    element like every other time (local to the browser), anything else as its text."""
    if value is None:
        return ""
    if property_type == "datetime" and value:
        try:
            at = datetime.fromisoformat(value).astimezone(UTC)
        except ValueError:
            return value
        return Markup('<time datetime="{0}" data-local-time>{1} UTC</time>').format(
            value, f"{at:%Y-%m-%d %H:%M:%S}")
    return value


def record_title(object_type: str, record_id: int, values: Mapping[str, str | None]) -> str:
    """How a record is named on pages: a contact by its full name (or e-mail), others by
    their first name property that has a value, else by type and id."""
    if object_type == "contacts":
        full = " ".join(v for v in (values.get("firstname"), values.get("lastname")) if v)
        if full or values.get("email"):
            return full or str(values.get("email"))
    names = [values.get(n) for n in TITLE_PROPERTIES.get(object_type, ())]
    return next((n for n in names if n), None) or (
        f"{OBJECT_TYPES[object_type].singular.capitalize()} {record_id}")


def duration(ms: int | None) -> str:
    """A lag as people say it: "none", "850 ms", "3.2 s", "4 min"."""
    if ms is None:
        return "none"
    if ms < 1000:
        return f"{ms} ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f} s"
    return f"{ms // 60_000} min"


def figure(value: float | int | None) -> str:
    """A report's figure as people read it: a count without ".0", a sum or an average
    with its decimals, thousands separated ("1,204", "51", "3,511.25"); none is 0."""
    if value is None:
        return "0"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0")


TEMPLATES.filters["figure"] = figure
TEMPLATES.filters["when"] = when
TEMPLATES.filters["duration"] = duration
TEMPLATES.globals["shown_value"] = shown_value
TEMPLATES.globals["singular"] = lambda ot: OBJECT_TYPES[ot].singular if ot in OBJECT_TYPES else ot
TEMPLATES.globals["title_case"] = lambda ot: ot.capitalize()
