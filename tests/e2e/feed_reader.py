"""A reader of the change feed in a process of its own, for the crash tests:
``python -m tests.e2e.feed_reader URL READER LIMIT commit|hang``.

It reads a batch of READER's feed and moves the cursor in one transaction, prints the
batch's record ids as one line of JSON, then commits (``commit``) or waits, never
committing, to be killed (``hang``)."""

from __future__ import annotations

import json
import sys
import time

from propsync.bootstrap import engine_for
from propsync.config import Settings
from propsync.storage import feed
from propsync.storage.db import write_transaction


def main(url: str, reader: str, limit: int, mode: str) -> None:
    engine = engine_for(Settings(database_url=url))
    with write_transaction(engine) as conn:
        batch = feed.read(conn, reader, limit)
        assert batch is not None
        feed.advance(conn, batch)
        print(json.dumps([change.record_id for _, change in batch.rows]), flush=True)
        while mode == "hang":
            time.sleep(1)
    engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4])
