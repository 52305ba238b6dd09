"""``python -m propsync.bench.child URL``: the backfill's own process, so that its peak RSS
is the backfill's alone (the parent's seeding does not count).

It builds the engine, prints ``ready``, waits for a line on stdin, drains every pending
sync step with ``SyncWorker(engine).drain()`` and prints one JSON line:
``{"peak_rss_kb": ..., "seconds": ..., "error": ...}``.
"""

from __future__ import annotations

import json
import resource
import sys
import time

from propsync.config import Settings
from propsync.storage.db import build_engine
from propsync.sync.worker import SyncWorker


def main(database_url: str) -> None:
    engine = build_engine(Settings(database_url=database_url))  # migrated by the parent
    print("ready", flush=True)
    sys.stdin.readline()
    start = time.perf_counter()
    error = ""
    try:
        SyncWorker(engine).drain()
    except Exception as exc:  # reported to the parent, which fails the run
        error = f"{exc.__class__.__name__}: {exc}"
    seconds = time.perf_counter() - start
    engine.dispose()
    print(json.dumps({"peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                      "seconds": seconds, "error": error}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
