"""Schemathesis fuzzes every operation of the served OpenAPI document (bounded, on SQLite):
no input may cause a 5xx, and no response may break the schema the API documents."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from propsync.bootstrap import engine_for
from propsync.config import Settings
from tests.conftest import RunningServer, new_tenant, run_server

EXAMPLES = int(os.environ.get("PROPSYNC_FUZZ_EXAMPLES", "25"))
pytestmark = pytest.mark.fuzz


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    folder: Path = tmp_path_factory.mktemp("fuzz")
    engine = engine_for(Settings(database_url=f"sqlite:///{folder / 'fuzz.db'}"))
    with run_server(engine) as running:
        yield running
    engine.dispose()


@pytest.fixture(scope="module")
def fuzz_token(fuzz_server: RunningServer) -> str:
    tenant = new_tenant(fuzz_server)
    for i in range(3):  # something to find, update and associate
        tenant.client.post("/crm/v3/objects/contacts", json={"properties": {"firstname": f"F{i}"}})
        tenant.client.post("/crm/v3/objects/companies", json={"properties": {"name": f"C{i}"}})
    tenant.client.close()
    return tenant.token


@pytest.mark.slow
def test_no_input_causes_a_server_error_or_an_undocumented_response(fuzz_server, fuzz_token):
    schema = schemathesis.openapi.from_url(f"{fuzz_server.base_url}/openapi.json")
    headers = {"Authorization": f"Bearer {fuzz_token}"}
    failures: dict[str, str] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 30
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers,
                                   checks=[not_a_server_error, response_schema_conformance])

        try:
            run()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures[operation.label] = str(exc)[:2000]
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())
