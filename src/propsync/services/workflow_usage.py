"""Workflows' answer to "where is this property used?" (``property_uses``, registered in
``services/property_usage.py``).

A flow uses a property of any object type it reads or writes: its enrolled record's,
a data source's (a company flow copying a contact's property), or the associated
records' it writes. Only the flows whose stored definition contains the name are read
(one ``LIKE`` over the account's definitions), so the answer costs a read of the flows
that may use the property, not of every flow.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Connection

from propsync.domain.usage import Use
from propsync.domain.workflow_usage import flow_parts
from propsync.storage import workflows as store
from propsync.storage.associations import load_types

KIND = "workflow"
LINK = "/ui/automation/workflows/{}"


def association_ends(conn: Connection, account_id: int) -> dict[int, str]:
    """Association type id → the object type it leads to, for the account."""
    return {i: a.to_type for i, a in load_types(conn, account_id).items()}


def property_uses(conn: Connection, account_id: int, object_type: str, name: str
                  ) -> list[Use]:
    """The account's live workflows that use ``object_type``.``name``, by id."""
    flows = store.flows_naming(conn, account_id, name)
    if not flows:
        return []
    ends: Mapping[int, str] = association_ends(conn, account_id)
    uses = []
    for stored in flows:
        parts = flow_parts(stored.flow, ends, object_type, name)
        if parts:
            uses.append(Use(KIND, str(stored.flow_id), stored.name or f"Workflow "
                            f"{stored.flow_id}", stored.object_type, parts,
                            LINK.format(stored.flow_id)))
    return uses
