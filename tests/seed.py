"""Fast, set-based seeding of large associations for the crash and fan-out tests."""

from __future__ import annotations

import time

from sqlalchemy import Engine, text

from propsync.storage.db import write_transaction
from propsync.storage.dialects import id_list
from propsync.storage.ids import allocate_ids


def seed_contacts_of(engine: Engine, account_id: int, company_id: int, count: int,
                     type_ids: tuple[int, ...] = (279, 1)) -> list[int]:
    """``count`` new contacts, each associated with ``company_id`` through ``type_ids``."""
    inverse = {279: 280, 1: 2}
    now = time.time_ns() // 1_000_000
    with write_transaction(engine) as conn:
        ids = allocate_ids(conn, "records", count)
        ids_sql, ids_param = id_list(conn, ids)
        params = {"a": account_id, "c": company_id, "now": now, "ids": ids_param, "no": False}
        conn.execute(text(
            "INSERT INTO records (account_id, record_id, object_type, created_ms, updated_ms, "
            f"archived) SELECT :a, id, 'contacts', :now, :now, :no FROM ({ids_sql}) ids"), params)
        for type_id in type_ids:
            conn.execute(text(
                "INSERT INTO associations (account_id, from_id, to_type, to_id, type_id, "
                f"from_type, created_ms) SELECT :a, id, 'companies', :c, {type_id}, 'contacts', "
                f":now FROM ({ids_sql}) ids"), params)
            conn.execute(text(
                "INSERT INTO associations (account_id, from_id, to_type, to_id, type_id, "
                f"from_type, created_ms) SELECT :a, :c, 'contacts', id, {inverse[type_id]}, "
                f"'companies', :now FROM ({ids_sql}) ids"), params)
    return ids
