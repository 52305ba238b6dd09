"""The access probes' sandboxes and migrations (``route_fillings.py`` fills paths and
bodies with them): a sandbox of the world's account, an UNDONE migration of each type's
workflow, and one rehearsed in the sandbox as far as its comparison, to replay."""

from __future__ import annotations

from typing import Any

from propsync.domain.migrations import State
from propsync.services import sandboxes
from propsync.storage import migrations as store
from propsync.storage.db import write_transaction
from tests.reliability.access_world import SOURCE_OF, World


def sandbox_id(w: World) -> str:
    """A sandbox of the world's account (a sample of one record a type), made again when
    a DELETE took the last one."""
    found = sandboxes.list_sandboxes(w.engine, w.admin)
    if not found:
        found = [sandboxes.create_sandbox(w.engine, w.admin, "sample:1")]
    return str(found[0].account_id)


def _proposal(w: World, ot: str) -> dict[str, Any]:
    """A copy of ``SOURCE_OF[ot]``'s plain property into ``ot``'s, as a plan says it."""
    return {"kind": "ONE_WAY_COPY", "objectType": ot, "oldProperty": w.name(ot, "plain"),
            "name": w.fresh("msync"), "label": "Migrated", "flowName": "A workflow",
            "source": {"objectType": SOURCE_OF[ot], "property": w.name(SOURCE_OF[ot], "plain")}}


def _made(w: World, account_id: int, ot: str, state: State) -> str:
    """A migration of ``ot``'s workflow in ``state`` in ``account_id``, made once."""
    with write_transaction(w.engine) as conn:
        page, _ = store.list_migrations(conn, account_id, 0, 100)
        for m in page:
            if m.proposal.get("objectType") == ot and m.state is state:
                return str(m.migration_id)
        made = store.insert_migration(conn, account_id, w.flows[ot], _proposal(w, ot),
                                      w.admin.user_id, 1)
        results = {"compare": {"assets": []}} if state is State.COMPARED else {}
        store.save(conn, account_id, made.migration_id, state, results, 1)
    return str(made.migration_id)


def migration_id(w: World, ot: str) -> str:
    """An UNDONE migration of ``ot``'s workflow, so a step changes nothing (a 409) but
    undo (a no-op)."""
    return _made(w, w.account_id, ot, State.UNDONE)


def rehearsal(w: World, ot: str) -> dict[str, str]:
    """A replay's body: a migration of ``ot``'s workflow COMPARED in the world's sandbox
    (the world's workflows are no copies: the caller who may replay it is refused with a
    400 once every access check passed)."""
    sandbox = sandbox_id(w)
    return {"sandboxId": sandbox, "migrationId": _made(w, int(sandbox), ot, State.COMPARED)}
