"""Fan-out and backfill batches are sized to a time budget (WorkerConfig.batch_s)."""

from __future__ import annotations

from sqlalchemy import create_engine

from propsync.sync.worker import SyncWorker, WorkerConfig


def worker(**config: object) -> SyncWorker:
    return SyncWorker(create_engine("sqlite://"), WorkerConfig(**config))  # type: ignore[arg-type]


def test_a_quick_batch_lets_the_next_grow_at_most_twofold_and_a_slow_one_shrinks_it() -> None:
    w = worker(fanout_batch=2000, batch_s=0.08)
    w.resize("fanout", 2000, 0.001)
    assert w.sizes["fanout"] == 4000
    w.resize("fanout", 4000, 0.16)
    assert w.sizes["fanout"] == 2000
    w.resize("fanout", 2000, 0.12)
    assert w.sizes["fanout"] == round(2000 * 0.08 / 0.12)


def test_sizes_stay_within_their_bounds_and_each_kind_keeps_its_own() -> None:
    w = worker(backfill_batch=1000, min_batch=200, max_batch=5000, batch_s=0.08)
    for _ in range(10):
        w.resize("backfill", w.sizes["backfill"], 0.001)
    assert w.sizes["backfill"] == 5000
    for _ in range(10):
        w.resize("backfill", w.sizes["backfill"], 10.0)
    assert w.sizes["backfill"] == 200
    assert w.sizes["fanout"] == WorkerConfig().fanout_batch


def test_a_first_size_below_the_floor_is_kept_and_none_keeps_sizes_fixed() -> None:
    small = worker(fanout_batch=3, batch_s=0.08)
    small.resize("fanout", 3, 10.0)
    assert small.sizes["fanout"] == 3
    fixed = worker(fanout_batch=3, batch_s=None)
    fixed.resize("fanout", 3, 0.001)
    assert fixed.sizes["fanout"] == 3
