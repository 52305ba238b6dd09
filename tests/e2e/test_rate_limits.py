"""HubSpot's API rate limits: per token per interval, per account per day, with HubSpot's
``X-HubSpot-RateLimit-*`` headers and its 429 body; the official SDK's retry gets through
once the window has passed (issue 12.11)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hubspot import HubSpot
from hubspot.crm.contacts import SimplePublicObjectInputForCreate
from sqlalchemy import Engine, func, select
from urllib3.util.retry import Retry

from propsync.bootstrap import engine_for
from propsync.config import Settings
from propsync.services.accounts import create_account, create_token, create_user
from propsync.storage.tables import api_usage_daily
from tests.conftest import BACKENDS, RunningServer, drop_database, make_database, run_server
from tests.patience import WAIT_GUARD_S, wait_until

PER_SECOND = Settings(rate_limit_max=5, rate_limit_interval_ms=1000, rate_limit_daily=0)


@pytest.fixture(scope="module", params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[str]:
    url = make_database(request.param, Path(tmp_path_factory.mktemp("limits")))
    yield url
    drop_database(url)


@pytest.fixture(scope="module")
def limited(database: str) -> Iterator[RunningServer]:
    """A server allowing 5 requests per token per second, no daily limit."""
    engine = engine_for(Settings(database_url=database))
    with run_server(engine, PER_SECOND) as running:
        yield running
    engine.dispose()


def calls_counted(engine: Engine, account: int) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.coalesce(func.sum(api_usage_daily.c.calls), 0))
                                .where(api_usage_daily.c.account_id == account)).scalar_one())


def new_token(server: RunningServer, account: int | None = None) -> tuple[int, str]:
    engine = server.engine
    if account is None:
        account = create_account(engine, f"Limits {uuid.uuid4().hex[:6]}")
        create_user(engine, account, f"l-{uuid.uuid4().hex[:6]}@example.com")
    return account, create_token(engine, account, "all").token


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as opened:
        yield opened


def get(client: httpx.Client, server: RunningServer, token: str) -> httpx.Response:
    return client.get(f"{server.base_url}/crm/v3/objects/contacts",
                      headers={"Authorization": f"Bearer {token}"})


def wait_for_window(reply: httpx.Response) -> None:
    time.sleep(int(reply.headers["Retry-After"]) + 0.05)


def test_api_replies_carry_hubspots_rate_limit_headers(limited, client):
    _, token = new_token(limited)
    first = get(client, limited, token)
    assert first.status_code == 200
    assert first.headers["X-HubSpot-RateLimit-Max"] == "5"
    assert first.headers["X-HubSpot-RateLimit-Remaining"] == "4"
    assert first.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "1000"
    assert get(client, limited, token).headers["X-HubSpot-RateLimit-Remaining"] == "3"


def test_a_token_over_its_limit_gets_hubspots_429_and_another_token_does_not(limited, client):
    account, token = new_token(limited)
    codes = [get(client, limited, token).status_code for _ in range(5)]
    over = get(client, limited, token)
    assert codes == [200] * 5 and over.status_code == 429
    body = over.json()
    assert body["status"] == "error" and body["errorType"] == "RATE_LIMIT"
    assert body["message"] == "You have reached your secondly limit."
    assert body["policyName"] == "SECONDLY" and body["correlationId"]
    assert body["groupName"].startswith("publicapi:private_app-api-calls-")
    assert over.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    _, other = new_token(limited, account)
    assert get(client, limited, other).status_code == 200
    wait_for_window(over)
    assert get(client, limited, token).status_code == 200


def test_by_default_the_limit_is_hubspots_ten_secondly_rolling_one(database, client):
    engine = engine_for(Settings(database_url=database))
    with run_server(engine, Settings(rate_limit_max=3)) as server:
        _, token = new_token(server)
        replies = [get(client, server, token) for _ in range(4)]
    engine.dispose()
    assert [r.status_code for r in replies] == [200, 200, 200, 429]
    assert replies[0].headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
    assert replies[0].headers["X-HubSpot-RateLimit-Daily"] == "625000"  # professional
    assert replies[-1].json()["message"] == "You have reached your ten_secondly_rolling limit."
    assert replies[-1].json()["policyName"] == "TEN_SECONDLY_ROLLING"
    assert replies[-1].headers["X-HubSpot-RateLimit-Daily-Remaining"] == str(625_000 - 3)


def test_the_sdk_retries_a_429_and_gets_through_after_the_window(limited, client):
    _, token = new_token(limited)
    assert 429 in [get(client, limited, token).status_code for _ in range(6)]
    retry = Retry(total=3, status_forcelist=[429], allowed_methods=None, backoff_factor=0)
    sdk = HubSpot(access_token=token, host=limited.base_url, retry=retry)
    created = sdk.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"firstname": "Retried"}))
    assert created.properties["firstname"] == "Retried"


def test_the_daily_limit_holds_across_processes_sharing_the_database(database, client):
    """Two servers over one database share each account's count of the day."""
    engine = engine_for(Settings(database_url=database))
    daily = Settings(rate_limit_max=0, rate_limit_daily=10)
    with run_server(engine, daily) as one, run_server(engine, daily) as two:
        account, token = new_token(one)
        served = sum(get(client, one, token).status_code == 200 for _ in range(7))
        # a process adds its counts to the database within a second or so: wait for them
        wait_until(lambda: calls_counted(engine, account) >= 7, "the counts in the database")
        replies = [get(client, two, token) for _ in range(5)]
    engine.dispose()
    served += sum(r.status_code == 200 for r in replies)
    assert served == 10
    refused = next(r for r in replies if r.status_code == 429)
    assert refused.json()["message"] == "You have reached your daily limit."
    assert refused.json()["policyName"] == "DAILY"
    assert refused.headers["X-HubSpot-RateLimit-Daily-Remaining"] == "0"


def test_a_token_shows_when_it_was_last_used(limited, client):
    """A request writes nothing of the server's own bookkeeping: the use is written down
    by the rate limiter's thread within a second or so."""
    _, token = new_token(limited)
    deadline = time.monotonic() + WAIT_GUARD_S
    while True:
        listed = client.get(f"{limited.base_url}/propsync/v1/tokens",
                            headers={"Authorization": f"Bearer {token}"}).json()["results"]
        if listed[0]["lastUsedAt"] is not None or time.monotonic() > deadline:
            break
        time.sleep(0.5)  # within the server's 5 requests a second
    assert listed[0]["lastUsedAt"] is not None
