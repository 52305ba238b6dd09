"""Automation → Migrations: from copy workflows to sync properties (issue 16).

``/ui/automation/migrations`` lists the account's migrations, those rehearsed in its
sandboxes (each with *Replay here*), and the copy workflows the scan finds (each
candidate with *Start migration*; a conditional copy asks for consent; a two-way pair is
explained and left alone). ``/ui/automation/migrations/{id}`` is the
wizard: each step with its state, what it did and its figures (the dry run, the stale
copies with their records linked, the clones linked, the comparison's differences per
asset with the records explaining them), the next step's button, acknowledgements, the
optional history fill, and undo. Plain forms (POST, CSRF) that redirect back; no script.
Every step is ``services/migrations.py``'s, with its checks."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import RedirectResponse

from propsync.domain.errors import PropsyncError
from propsync.domain.migration_scan import Kind
from propsync.domain.migrations import Facts, Refusal, State, Step, transition
from propsync.services import migration_scan as scan_svc
from propsync.services import migrations as svc
from propsync.web.core import Ctx, CtxDep, FormDep, WebRoute, render

router = APIRouter(prefix="/ui", include_in_schema=False, route_class=WebRoute)
BASE = "/ui/automation/migrations"
NOTICES = {s.value: f"{s.value.replace('-', ' ').capitalize()}: done." for s in Step}
NOTICES["started"] = "Migration started: nothing is made until you apply it."
NOTICES["replayed"] = ("Migration started from the sandbox's rehearsal: the same workflow "
                       "and sync property. Nothing is made until you apply it.")
STEP_WORDS = {Step.APPLY: "Apply: create the sync property", Step.CLONE:
              "Clone the lists, reports and workflows", Step.COMPARE:
              "Compare each clone with its original", Step.CUT_OVER:
              "Cut over: turn the copy workflow off", Step.CLEAN_UP:
              "Clean up: delete the copy workflow"}


def _list_page(ctx: Ctx, status: int = 200, error: str | None = None) -> Response:
    migrations, _, hidden = svc.list_migrations(ctx.engine, ctx.principal, None, svc.MAX_PAGE)
    try:
        scan = scan_svc.scan_account(ctx.engine, ctx.principal)
        flows, scan_hidden, scan_error = scan.flows, scan.hidden, None
    except PropsyncError as exc:
        flows, scan_hidden, scan_error = [], 0, exc.message
    active = {m.flow_id for m in migrations
              if m.state not in (State.UNDONE, State.CLEANED_UP)}
    shown = [f for f in flows if f.verdict.kind in (Kind.ONE_WAY_COPY, Kind.CONDITIONAL_COPY,
                                                     Kind.TWO_WAY)]
    return render(ctx.request, "migrations.html", status=status, section="automation",
                  migrations=migrations, hidden=hidden, flows=shown, scan_hidden=scan_hidden,
                  scan_error=scan_error, active=active, error=error, Kind=Kind,
                  rehearsals=svc.rehearsals(ctx.engine, ctx.principal),
                  manager=ctx.principal.manages_properties)


@router.get("/automation/migrations")
def migrations_page(ctx: CtxDep) -> Response:
    return _list_page(ctx)


@router.post("/automation/migrations")
def start(ctx: CtxDep, form: FormDep) -> Response:
    try:
        made = svc.start(ctx.engine, ctx.principal, form.get("flow_id"),
                         form.get("accept_differences") == "yes")
    except PropsyncError as exc:
        return _list_page(ctx, exc.status, exc.message)
    return RedirectResponse(f"{BASE}/{made.migration_id}?done=started", status_code=303)


@router.post("/automation/migrations/replay")
def replay(ctx: CtxDep, form: FormDep) -> Response:
    """Start here a migration rehearsed in one of this account's sandboxes."""
    try:
        made = svc.replay(ctx.engine, ctx.principal, form.get("sandbox_id"),
                          form.get("migration_id"))
    except PropsyncError as exc:
        return _list_page(ctx, exc.status, exc.message)
    return RedirectResponse(f"{BASE}/{made.migration_id}?done=replayed", status_code=303)


def moved_records(asset: dict[str, Any]) -> list[dict[str, Any]]:
    """A report comparison's records, each once (a record that moved between two groups
    is named under both)."""
    seen: dict[str, dict[str, Any]] = {}
    for g in asset.get("groups", []):
        for x in g["records"]:
            seen.setdefault(x["recordId"], x)
    return list(seen.values())


def _page(ctx: Ctx, migration_id: str, status: int = 200, error: str | None = None,
          notice: str = "") -> Response:
    m = svc.get_migration(ctx.engine, ctx.principal, migration_id)
    r = m.stored.results
    compared = r.get("compare", {}).get("assets", [])
    acknowledged = r.get("acknowledged", {})
    facts = Facts(bool(m.backfill and m.backfill.live), all(
        a["same"] or acknowledged.get(a["key"]) == a["fingerprint"] for a in compared))
    allowed = {s.value for s in Step if not isinstance(transition(m.state, s, facts), Refusal)}
    return render(ctx.request, "migration.html", status=status, section="automation", m=m,
                  s=m.stored, p=m.stored.proposal, r=r, compared=compared,
                  acknowledged=acknowledged, allowed=allowed, error=error, notice=notice,
                  step_words=STEP_WORDS, State=State, Step=Step, moved_records=moved_records,
                  manager=ctx.principal.manages_properties)


@router.get("/automation/migrations/{migrationId}")
def migration_page(ctx: CtxDep, migrationId: str, done: str = "") -> Response:
    return _page(ctx, migrationId, notice=NOTICES.get(done, ""))


@router.post("/automation/migrations/{migrationId}/{step}")
def run_step(ctx: CtxDep, form: FormDep, migrationId: str, step: str) -> Response:
    try:
        chosen = Step(step)
    except ValueError:
        return _page(ctx, migrationId, 404, f"There is no step {step[:40]!r}.")
    body = {"assets": form.getlist("assets")} if chosen is Step.ACKNOWLEDGE else None
    try:
        svc.run_step(ctx.engine, ctx.principal, migrationId, chosen, body)
    except PropsyncError as exc:
        return _page(ctx, migrationId, exc.status, exc.message)
    return RedirectResponse(f"{BASE}/{migrationId}?done={chosen.value}", status_code=303)
