"""Sign-in and sign-out pages."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from propsync.domain.errors import AuthenticationError
from propsync.services import sessions
from propsync.services.signin_throttle import SignInThrottled
from propsync.services.users import sign_in
from propsync.web.core import FormDep, WebRoute, current_session, render, start_session
from propsync.web.proxy import client_address
from propsync.web.session import Session

router = APIRouter(prefix="/ui", include_in_schema=False, route_class=WebRoute)


def _safe_next(raw: str) -> str:
    """Only a path inside the UI: never an open redirect to another site."""
    return raw if raw.startswith("/ui/") and not raw.startswith("//") else "/ui/"


@router.get("/login")
def login_page(request: Request, next: str = "/ui/") -> Response:
    if current_session(request).signed_in:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "login.html", next=_safe_next(next), email="", error=None)


@router.post("/login")
async def login(request: Request, form: FormDep) -> Response:
    email, target = form.get("email"), _safe_next(form.get("next", "/ui/"))
    try:
        principal = await run_in_threadpool(sign_in, request.app.state.engine, email,
                                            form.get("password"), client_address(request))
    except (AuthenticationError, SignInThrottled) as exc:
        page = render(request, "login.html", status=exc.status, next=target, email=email,
                      error=exc.message)
        if isinstance(exc, SignInThrottled):
            page.headers["Retry-After"] = str(exc.retry_after_s)
        return page
    await run_in_threadpool(_end, request)  # a session signed in before ends here
    live = await run_in_threadpool(sessions.start, request.app.state.engine,
                                   principal.account_id, principal.user_id)
    start_session(request, Session(live.csrf, principal.account_id, live.user_id,
                                   int(time.time()), live.session_id))
    return RedirectResponse(target, status_code=303)


@router.post("/logout")
def logout(request: Request, form: FormDep) -> Response:
    """End the session in the database (every copy of its cookie stops working)."""
    _end(request)
    start_session(request, Session.anonymous())
    return RedirectResponse("/ui/login", status_code=303)


def _end(request: Request) -> None:
    session = current_session(request)
    if session.account_id is not None and session.session_id is not None:
        sessions.end(request.app.state.engine, session.account_id, session.session_id)


@router.get("/")
def home() -> Response:
    return RedirectResponse("/ui/records/contacts", status_code=303)
