"""Settings → Sandboxes (Enterprise): the account's sandboxes, creating one (every record
or a sample kept whole), deleting one after a confirmation, and switching to one (or back
to its source): sign-in takes a person to the first account with their e-mail and
password, the source, so *Open* ends this session and starts one in the other account as
the same user (services/sandboxes.switch_target says who may). Creating and deleting are for
super admins (services/sandboxes.py); a Professional account is told why it has none. A
new sandbox's token for the signed-in user is shown once, on the reply that created it."""

from __future__ import annotations

import time

from fastapi import APIRouter, Response
from fastapi.responses import RedirectResponse

from propsync.domain.errors import PropsyncError
from propsync.domain.sandboxes import SAMPLE_MAX
from propsync.services import sandboxes as svc
from propsync.services import sessions
from propsync.web.core import Ctx, CtxDep, FormDep, WebRoute, render, start_session
from propsync.web.session import Session

router = APIRouter(prefix="/ui", include_in_schema=False, route_class=WebRoute)
NOTICES = {"deleted": "Sandbox deleted: every record and setting of it is gone; this "
                      "account was not touched."}


def _page(ctx: Ctx, status: int = 200, created: svc.Sandbox | None = None,
          error: str | None = None, notice: str = "", name: str = "",
          records: str = "all", sample: str = "100") -> Response:
    page = render(ctx.request, "sandboxes.html", status=status, section="settings",
                  view=svc.overview(ctx.engine, ctx.principal), created=created, error=error,
                  notice=notice, name=name, records=records, sample=sample,
                  sample_max=SAMPLE_MAX, api_max=svc.API_MAX_RECORDS,
                  admin=ctx.principal.is_super_admin)
    page.headers["Cache-Control"] = "no-store"  # a page may show a token once
    return page


@router.get("/settings/sandboxes")
def sandboxes_page(ctx: CtxDep, done: str = "") -> Response:
    return _page(ctx, notice=NOTICES.get(done, ""))


@router.post("/settings/sandboxes")
def create(ctx: CtxDep, form: FormDep) -> Response:
    """Create a sandbox of this account; the reply shows the token made for the user."""
    records = form.get("records") or "all"
    sample = (form.get("sample") or "").strip()
    name = (form.get("name") or "").strip()
    choice = f"sample:{sample}" if records == "sample" else records
    try:
        made = svc.create_sandbox(ctx.engine, ctx.principal, choice, name or None)
    except PropsyncError as exc:
        return _page(ctx, status=exc.status, error=exc.message, name=name, records=records,
                     sample=sample)
    return _page(ctx, status=201, created=made)


@router.post("/settings/sandboxes/{sandboxId}/delete")
def delete(ctx: CtxDep, form: FormDep, sandboxId: str) -> Response:
    try:
        svc.delete_sandbox(ctx.engine, ctx.principal, sandboxId)
    except PropsyncError as exc:
        return _page(ctx, status=exc.status, error=exc.message)
    return RedirectResponse("/ui/settings/sandboxes?done=deleted", status_code=303)


@router.post("/settings/sandboxes/{accountId}/open")
def switch(ctx: CtxDep, form: FormDep, accountId: str) -> Response:
    """Work in a sandbox of this account, or back in the account a sandbox was copied
    from, as the same user: a new session there (this one ends)."""
    try:
        target = svc.switch_target(ctx.engine, ctx.principal, accountId)
    except PropsyncError as exc:
        return _page(ctx, status=exc.status, error=exc.message)
    if ctx.session.session_id is not None:
        sessions.end(ctx.engine, ctx.principal.account_id, ctx.session.session_id)
    live = sessions.start(ctx.engine, target, ctx.principal.user_id)
    start_session(ctx.request, Session(live.csrf, target, live.user_id, int(time.time()),
                                       live.session_id))
    return RedirectResponse("/ui/settings/sandboxes", status_code=303)
