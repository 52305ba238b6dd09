"""Settings → Users & teams: a super admin adds users, sets their roles and keeps teams.

Every change goes through ``services.members``, which refuses anyone but a super admin and
anyone widening their own access; the page is only linked for super admins.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Response
from fastapi.responses import RedirectResponse

from propsync.domain.auth import ROLE_LABELS, Role
from propsync.domain.errors import PropsyncError, ValidationError
from propsync.domain.record_ids import parse_record_id
from propsync.services import members as svc
from propsync.web.core import Ctx, CtxDep, Form, FormDep, WebRoute, render

router = APIRouter(prefix="/ui", include_in_schema=False, route_class=WebRoute)
PAGE = "/ui/settings/users"
# What a finished change says; the query carries a key, never text of its own.
NOTICES = {"user-added": "User added.", "role-changed": "Role changed.",
           "team-created": "Team created.", "team-saved": "Team saved.",
           "team-deleted": "Team deleted."}


@router.get("/settings/users")
def members_page(ctx: CtxDep, done: str = "") -> Response:
    return _page(ctx, notice=NOTICES.get(done, ""))


def _page(ctx: Ctx, notice: str = "", error: PropsyncError | None = None) -> Response:
    """The page, for super admins only: also when it shows a refused change, so a refusal
    never shows the account's users to someone who may not see this page."""
    ctx.principal.require_super_admin("manage users and teams")
    users = svc.list_users(ctx.engine, ctx.principal)
    teams = svc.list_teams(ctx.engine, ctx.principal)
    return render(ctx.request, "members.html", status=error.status if error else 200,
                  users=users, teams=teams, names={u.user_id: u.display_name for u in users},
                  roles=ROLE_LABELS, notice=notice, error=error, section="settings")


def _done(ctx: Ctx, key: str, change: Callable[[], object]) -> Response:
    """Make ``change``; then the page again with the notice ``key``, or with the refusal."""
    try:
        change()
    except PropsyncError as exc:
        return _page(ctx, error=exc)
    return RedirectResponse(f"{PAGE}?done={key}", status_code=303)


@router.post("/settings/users")
def add_user(ctx: CtxDep, form: FormDep) -> Response:
    return _done(ctx, "user-added", lambda: svc.add_user(
        ctx.engine, ctx.principal, form.get("email"), form.get("name"), _role(form),
        form.get("password") or None))


@router.post("/settings/users/{userId}/role")
def change_role(ctx: CtxDep, form: FormDep, userId: str) -> Response:
    return _done(ctx, "role-changed", lambda: svc.change_role(
        ctx.engine, ctx.principal, _id(userId), _role(form)))


@router.post("/settings/teams")
def create_team(ctx: CtxDep, form: FormDep) -> Response:
    return _done(ctx, "team-created", lambda: svc.create_team(
        ctx.engine, ctx.principal, form.get("name"), _members(form)))


@router.post("/settings/teams/{teamId}")
def save_team(ctx: CtxDep, form: FormDep, teamId: str) -> Response:
    return _done(ctx, "team-saved", lambda: svc.update_team(
        ctx.engine, ctx.principal, _id(teamId), form.get("name"), _members(form)))


@router.post("/settings/teams/{teamId}/delete")
def delete_team(ctx: CtxDep, form: FormDep, teamId: str) -> Response:
    return _done(ctx, "team-deleted", lambda: svc.delete_team(
        ctx.engine, ctx.principal, _id(teamId)))


def _role(form: Form) -> Role:
    try:
        return Role(form.get("role"))
    except ValueError:
        raise ValidationError("Choose a role: super admin, admin or user.") from None


def _id(raw: str) -> int:
    parsed = parse_record_id(raw)
    if parsed is None:
        raise ValidationError(f"{raw[:40]!r} is not an id.")
    return parsed


def _members(form: Form) -> list[int]:
    return [_id(v) for v in form.getlist("member")]
