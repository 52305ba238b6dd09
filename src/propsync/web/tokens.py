"""Settings → API tokens: the tokens a person may manage, creating one, revoking one.

A super admin sees every token of the account, anyone else their own (the rule lives in
services/tokens.py). A new token's secret is shown once, on the reply to the form that
created it, and never stored or shown again.
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import RedirectResponse

from propsync.domain.auth import (
    ALL_SCOPES,
    AUTOMATION,
    BUSINESS_INTELLIGENCE,
    TEAMS_READ,
    TEAMS_WRITE,
    USERS_READ,
    USERS_WRITE,
    Role,
)
from propsync.domain.errors import PropsyncError, ValidationError
from propsync.domain.objects import OBJECT_TYPES
from propsync.services import tokens as svc
from propsync.services.accounts import NewToken
from propsync.web.core import Ctx, CtxDep, FormDep, WebRoute, notice_text, render

router = APIRouter(prefix="/ui", include_in_schema=False, route_class=WebRoute)
# The scope checkboxes: per object type, records and properties, read and edit.
SCOPE_COLUMNS = (("objects", "read", "read records"), ("objects", "write", "edit records"),
                 ("schemas", "read", "read properties"), ("schemas", "write", "edit properties"))
# And the account's users, teams and tokens (HubSpot's settings scopes), and workflows.
SETTINGS_SCOPES = ((USERS_READ, "read users and tokens"), (USERS_WRITE, "manage users and tokens"),
                   (TEAMS_READ, "read teams"), (TEAMS_WRITE, "manage teams"),
                   (AUTOMATION, "read and change workflows"),
                   (BUSINESS_INTELLIGENCE, "read, run and change reports"))


def _page(ctx: Ctx, status: int = 200, created: NewToken | None = None,
          error: str | None = None, notice: str = "", name: str = "") -> Response:
    page = render(ctx.request, "tokens.html", status=status, section="settings",
                  tokens=svc.list_tokens(ctx.engine, ctx.principal), created=created,
                  everyone=ctx.principal.role is Role.SUPER_ADMIN, error=error,
                  notice=notice, name=name, object_types=list(OBJECT_TYPES),
                  columns=SCOPE_COLUMNS, settings_scopes=SETTINGS_SCOPES,
                  all_scopes=len(ALL_SCOPES))
    page.headers["Cache-Control"] = "no-store"  # a page may show a secret once
    return page


@router.get("/settings/tokens")
def tokens_page(ctx: CtxDep, notice: str = "") -> Response:
    return _page(ctx, notice=notice_text(notice))


@router.post("/settings/tokens")
def create(ctx: CtxDep, form: FormDep) -> Response:
    """Create a token for the signed-in user; its secret is on this reply only."""
    scopes = [s for s in form.getlist("scope") if s in ALL_SCOPES]
    try:
        if not scopes:
            raise ValidationError("Choose at least one thing the token may do.")
        created = svc.create_own_token(ctx.engine, ctx.principal, form.get("name"),
                                       " ".join(scopes))
    except PropsyncError as exc:
        return _page(ctx, status=exc.status, error=exc.message, name=form.get("name"))
    return _page(ctx, status=201, created=created)


@router.post("/settings/tokens/{tokenId}/revoke")
def revoke(ctx: CtxDep, form: FormDep, tokenId: str) -> Response:
    svc.revoke_token(ctx.engine, ctx.principal, svc.parse_token_id(tokenId))
    return RedirectResponse("/ui/settings/tokens?notice=token-revoked", status_code=303)
