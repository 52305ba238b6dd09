"""Several writers and several workers at once: at rest, not one sync value differs."""

from __future__ import annotations

import random
import threading

from propsync.sync.runner import start_worker
from propsync.sync.verify import verify
from tests.integration.world import PRIMARY, UNLABELED, World


def writer(w: World, seed: int, companies: list[int], contacts: list[int], steps: int,
           errors: list[BaseException]) -> None:
    rng = random.Random(seed)
    try:
        for step in range(steps):
            company, contact = rng.choice(companies), rng.choice(contacts)
            action = rng.randrange(6)
            if action == 0:
                w.set("companies", company, name=f"name {seed}-{step}")
            elif action == 1:
                w.set("companies", company, city=rng.choice(["", "Oslo", f"c{seed}-{step}"]))
            elif action == 2:
                w.link("contacts", contact, "companies", company,
                       rng.choice([[UNLABELED], [UNLABELED, PRIMARY]]))
            elif action == 3:
                w.unlink("contacts", contact, "companies", company)
            elif action == 4:
                w.archive("companies", company)
            else:
                w.restore("companies", company)
    except BaseException as exc:  # reported by the test
        errors.append(exc)


def test_concurrent_writers_and_workers_leave_no_difference(engine):
    w = World.new(engine)
    companies = w.create_each("companies", [{"name": f"C{i}", "city": "X"} for i in range(12)])
    contacts = w.create("contacts", 30)
    rng = random.Random(7)
    for contact in contacts:
        w.link("contacts", contact, "companies", rng.choice(companies), [UNLABELED, PRIMARY])
    w.define("contacts", "primary_name", "companies", "name", [PRIMARY], None)
    w.define("contacts", "last_city", "companies", "city", None, "LAST_CREATED")
    w.define("deals", "first_city", "companies", "city", None, "FIRST_CREATED")
    workers = [start_worker(engine) for _ in range(2)]
    errors: list[BaseException] = []
    threads = [threading.Thread(target=writer, args=(w, seed, companies, contacts, 40, errors))
               for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    for running in workers:
        running.shutdown()
    assert not errors, errors
    w.settle()
    assert verify(engine, w.account_id) == []
