"""Settings → Properties: the table per object type, a property's page, edit and delete."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse, RedirectResponse

from propsync.domain.errors import PropsyncError
from propsync.domain.objects import resolve_object_type
from propsync.domain.properties import AccessRule
from propsync.domain.record_ids import parse_record_id
from propsync.domain.sync_rule import SyncDefinition
from propsync.services import definition_log
from propsync.services import labels as label_svc
from propsync.services import properties as prop_svc
from propsync.services import property_groups as group_svc
from propsync.services import sync_properties as sync_svc
from propsync.services.members import Team, User, list_teams, list_users
from propsync.services.property_usage import property_usage
from propsync.web.core import Ctx, CtxDep, Form, FormDep, WebRoute, render

router = APIRouter(prefix="/ui", include_in_schema=False, route_class=WebRoute)
TABS = ("details", "used", "history")


@router.get("/settings")
def settings_home() -> Response:
    return RedirectResponse("/ui/settings/properties", status_code=303)


@router.get("/settings/properties")
def property_table(ctx: CtxDep, objectType: str = "contacts", q: str = "",
                   deleted: str = "") -> Response:
    ot = resolve_object_type(objectType).name
    views = prop_svc.list_properties(ctx.engine, ctx.principal, ot)
    groups = {g.name: g.label for g in group_svc.list_groups(ctx.engine, ctx.principal, ot)}
    needle = q.strip().lower()
    shown = [v for v in views if not needle or needle in v.definition.label.lower()
             or needle in v.definition.name]
    shown.sort(key=lambda v: v.definition.label.lower())
    users, teams = list_users(ctx.engine, ctx.principal), list_teams(ctx.engine, ctx.principal)
    access = {v.definition.name: access_summary(v.definition.access, users, teams)
              for v in shown if v.definition.access.is_restricted}
    return render(ctx.request, "properties.html", object_type=ot, views=shown, q=q,
                  groups=groups, total=len(views), section="settings", access=access,
                  notice="Property deleted." if deleted else "")


def label_names(ctx: Ctx, d: SyncDefinition) -> list[str]:
    """The labels a sync property filters on, as users know them; empty = all labels."""
    if d.association_type_ids is None:
        return []
    known = {t.type_id: t.label or "Unlabeled" for t in
             label_svc.list_labels(ctx.engine, ctx.principal, d.target_type, d.source_type)}
    return [known.get(i, f"type {i}") for i in sorted(d.association_type_ids)]


def access_summary(rule: AccessRule, users: list[User], teams: list[Team]) -> str:
    """Who an access rule admits, by name: "Ada Lovelace, team Finance"; view and edit are
    said apart when they differ."""
    names = {u.user_id: u.display_name for u in users}
    team_names = {t.team_id: t.name for t in teams}

    def side(who: frozenset[int] | None, which: frozenset[int] | None) -> str:
        if who is None and which is None:
            return "everyone"
        named = [names.get(i, f"user {i}") for i in sorted(who or ())]
        named += [f"team {team_names.get(i, i)}" for i in sorted(which or ())]
        return ", ".join(named) or "nobody"

    view = side(rule.view_users, rule.view_teams)
    edit = side(rule.edit_users, rule.edit_teams) if rule.edit_restricted else view
    return f"{view} (view and edit)" if view == edit else f"view: {view}; edit: {edit}"


def _page_values(ctx: Ctx, ot: str, name: str, tab: str) -> dict[str, Any]:
    view = prop_svc.get_property(ctx.engine, ctx.principal, ot, name)
    status = (sync_svc.property_status(ctx.engine, ctx.principal, ot, name)
              if view.sync is not None else None)
    users, teams = list_users(ctx.engine, ctx.principal), list_teams(ctx.engine, ctx.principal)
    return {
        "object_type": ot, "view": view, "prop": view.definition, "sync": view.sync,
        "sync_status": status, "labels": label_names(ctx, view.sync) if view.sync else [],
        "usage": property_usage(ctx.engine, ctx.principal, ot, name),
        "groups": group_svc.list_groups(ctx.engine, ctx.principal, ot),
        "users": users, "teams": teams,
        "access_text": access_summary(view.definition.access, users, teams),
        "definition_log": definition_log.definition_log(ctx.engine, ctx.principal, ot,
                                                        view.definition.id),
        "tab": tab if tab in TABS else "details", "section": "settings",
    }


@router.get("/settings/properties/{objectType}/{name}")
def property_page(ctx: CtxDep, objectType: str, name: str, tab: str = "details",
                  created: str = "", saved: str = "", redefined: str = "") -> Response:
    ot = resolve_object_type(objectType).name
    notice = ("Property created." if created else "") or ("Changes saved." if saved else "") \
        or ("Source changed: every value is being recomputed." if redefined else "")
    return render(ctx.request, "property.html", notice=notice, error=None,
                  **_page_values(ctx, ot, name, tab))


@router.post("/settings/properties/{objectType}/{name}/edit")
def edit_property(ctx: CtxDep, form: FormDep, objectType: str, name: str) -> Response:
    ot = resolve_object_type(objectType).name
    try:
        current = prop_svc.get_property(ctx.engine, ctx.principal, ot, name).definition
        patch = prop_svc.PropertyPatch(
            label=form.get("label"), description=form.get("description"),
            group_name=form.get("group") or None, access=_access(form, current.access))
        prop_svc.update_property(ctx.engine, ctx.principal, ot, name, patch)
    except PropsyncError as exc:
        return _with_error(ctx, ot, name, exc)
    return RedirectResponse(f"/ui/settings/properties/{ot}/{name}?saved=1", status_code=303)


def _access(form: Form, current: AccessRule) -> AccessRule | None:
    """The access rule the form asks for, or ``None`` when it asks for the one the page
    showed (the form says the same users and teams may view and edit; a rule set through
    the API with different sides is left alone unless the form changes it)."""
    mode = form.get("access")
    if mode == "restricted":
        users = _ids(form.getlist("access_user"))
        teams = _ids(form.getlist("access_team"))
        wanted = AccessRule(view_users=users, view_teams=teams, edit_users=users,
                            edit_teams=teams)
    elif mode == "everyone":
        wanted = AccessRule()
    else:
        return None
    shown = AccessRule(view_users=current.user_ids, view_teams=current.team_ids,
                       edit_users=current.user_ids, edit_teams=current.team_ids
                       ) if current.is_restricted else AccessRule()
    return None if wanted == shown else wanted


def _ids(raw: list[str]) -> frozenset[int]:
    return frozenset(i for i in map(parse_record_id, raw) if i is not None)


@router.post("/settings/properties/{objectType}/{name}/delete")
def delete_property(ctx: CtxDep, form: FormDep, objectType: str, name: str) -> Response:
    ot = resolve_object_type(objectType).name
    try:
        prop_svc.delete_property(ctx.engine, ctx.principal, ot, name)
    except PropsyncError as exc:
        return _with_error(ctx, ot, name, exc)
    return RedirectResponse(f"/ui/settings/properties?objectType={ot}&deleted={name}",
                            status_code=303)


def _with_error(ctx: Ctx, ot: str, name: str, exc: PropsyncError) -> Response:
    return render(ctx.request, "property.html", status=exc.status, notice="", error=exc,
                  **_page_values(ctx, ot, name, "details"))


@router.get("/settings/properties/{objectType}/{name}/status.json")
def sync_status(ctx: CtxDep, objectType: str, name: str) -> Response:
    """Backfill progress of a sync property, for the page to follow live."""
    s = sync_svc.property_status(ctx.engine, ctx.principal, objectType, name)
    d = s.definition
    return JSONResponse({"state": d.state, "done": min(d.backfill_done, d.backfill_total),
                         "total": d.backfill_total, "filled": s.filled, "queued": s.queued})
