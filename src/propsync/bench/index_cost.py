"""What the search indexes of every value (migration 0014) cost the sync engine's writes.

``python -m propsync.bench.index_cost [--companies N] [--rounds R] [--store sqlite|postgres]``

Each round seeds two fresh databases with the same data set, one at migration 0013 (sync
values alone indexed) and one at the head (every value, and the trigram index), in
alternating order (before, after; then after, before...), and on each measures the
backfill of the sync property (a child process draining it, beside the raw
``INSERT ... SELECT``) and the fan-out of a hub rename (beside the raw ``UPDATE``): the
same code on both, only the schema differs. Prints one JSON line per measurement and a
summary of medians.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import uuid
from pathlib import Path
from typing import Any

import psycopg

from propsync.bench import scenarios
from propsync.bench.dataset import seed
from propsync.config import Settings
from propsync.storage.db import build_engine
from propsync.storage.migrate import upgrade

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
BEFORE, AFTER = "0013", "head"


def measure(store: str, revision: str, companies: int, folder: Path) -> dict[str, Any]:
    if store == "sqlite":
        url = f"sqlite:///{folder}/cost-{uuid.uuid4().hex[:8]}.db"
    else:
        name = f"propsync_cost_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = ADMIN.rsplit("/", 1)[0] + f"/{name}"
    engine = build_engine(Settings(database_url=url))
    try:
        upgrade(engine, revision)
        data = seed(engine, companies)
        backfill = scenarios.backfill(data, url)
        fanout = scenarios.fanout(data)
        return {"store": store, "schema": revision, "seed_s": round(data.seconds, 2),
                "backfill_s": backfill["seconds"], "backfill_raw_s": backfill["raw_sql_seconds"],
                "fanout_s": fanout["seconds"], "fanout_raw_s": fanout["raw_sql_seconds"]}
    finally:
        engine.dispose()
        if store == "postgres":
            with psycopg.connect(ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--companies", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--store", action="append", choices=("sqlite", "postgres"))
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as folder:
        for n in range(args.rounds):
            order = (BEFORE, AFTER) if n % 2 == 0 else (AFTER, BEFORE)
            for store in args.store or ("sqlite", "postgres"):
                for revision in order:
                    row = measure(store, revision, args.companies, Path(folder))
                    rows.append(row)
                    print(json.dumps(row), flush=True)
    for store in args.store or ("sqlite", "postgres"):
        for figure in ("backfill_s", "backfill_raw_s", "fanout_s", "fanout_raw_s"):
            before, after = (statistics.median(r[figure] for r in rows
                                               if r["store"] == store and r["schema"] == s)
                             for s in (BEFORE, AFTER))
            print(f"{store:9} {figure:15} before {before:8.3f}  after {after:8.3f}  "
                  f"after/before {after / before:5.2f}")


if __name__ == "__main__":
    main()
