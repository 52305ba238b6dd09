"""GDPR delete of contacts (HubSpot's ``POST /crm/v3/objects/contacts/gdpr-delete``), and
its audit, which admins read."""

from __future__ import annotations

from sqlalchemy import Engine

from propsync.clock import now_ms
from propsync.domain.auth import Principal, object_scope
from propsync.domain.errors import (
    ErrorDetail,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from propsync.domain.objects import resolve_object_type
from propsync.domain.record_ids import parse_record_id
from propsync.services import record_keys as keys
from propsync.services.schema import Catalogue
from propsync.storage import erasure
from propsync.storage import records as record_store
from propsync.storage.db import read_transaction, write_transaction

CONTACTS = "contacts"
EMAIL = "email"


def gdpr_delete(engine: Engine, principal: Principal, object_id: str,
                id_property: str | None) -> list[int]:
    """Erase the contact ``object_id`` names (archived or not) for good; returns the ids
    erased. With ``idProperty`` ``email`` (which propsync does not keep unique) every
    contact with that address is erased, as HubSpot erases the person it names."""
    principal.require(object_scope(CONTACTS, write=True))
    now = now_ms()
    with write_transaction(engine) as conn:
        catalogue = Catalogue.load(conn, principal, CONTACTS)
        if id_property == EMAIL and EMAIL in catalogue.visible:
            ids = erasure.records_with_text(conn, principal.account_id, CONTACTS,
                                            catalogue.visible[EMAIL].id, object_id)
        elif keys.key_property(catalogue, id_property) is not None:
            ids = [i for i in keys.resolve(conn, catalogue, id_property, [object_id]) if i]
        else:
            rid = parse_record_id(object_id)
            found = record_store.load_records(conn, principal.account_id, CONTACTS,
                                              [rid] if rid else [])
            ids = list(found)
        if not ids:
            raise NotFoundError(f"No contact has the id {object_id[:100]!r}"
                                + (f" as {id_property}." if id_property else "."),
                                context={"id": [object_id[:100]]})
        erasure.erase_records(conn, principal.account_id, CONTACTS, ids, now)
        erasure.log_erasures(conn, principal.account_id, CONTACTS, ids, now,
                             principal.user_id, id_property)
    return ids


def list_erasures(engine: Engine, principal: Principal, object_type: str, after: str | None,
                  limit: int) -> tuple[list[erasure.Erasure], str | None]:
    """One page of the GDPR deletes of a type (admins only), and the next page's cursor."""
    ot = resolve_object_type(object_type).name
    principal.require(object_scope(ot))
    if not principal.manages_properties:
        message = "Only super admins and admins can read the audit of GDPR deletes."
        raise PermissionDeniedError(message, [ErrorDetail(message, "ADMIN_REQUIRED")])
    start = parse_record_id(after) if after else 0
    if start is None:
        message = f"'after' must be a paging cursor from a previous page, not {str(after)[:100]!r}."
        raise ValidationError(message, [ErrorDetail(message, "INVALID_PAGING")])
    with read_transaction(engine) as conn:
        rows = erasure.load_erasures(conn, principal.account_id, ot, start, limit + 1)
    page = rows[:limit]
    return page, (str(page[-1].entry_id) if len(rows) > limit else None)
