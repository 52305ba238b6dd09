"""Bodies of propsync's sandboxes (``/propsync/v1/sandboxes``): propsync's own shape, in
HubSpot's manner (camelCase, ids as strings, times in ISO-8601)."""

from __future__ import annotations

from pydantic import Field

from propsync.api.schemas.common import Model
from propsync.domain.properties import format_ms
from propsync.domain.sandboxes import NAME_MAX
from propsync.services.sandboxes import Sandbox


class SandboxIn(Model):
    name: str | None = Field(None, max_length=NAME_MAX, description="The sandbox's name "
                             "('<account name> (sandbox)' if left out).")
    records: str = Field("all", max_length=20, description="'all', or 'sample:N': the N "
                         "live records of lowest id of each object type, with every record "
                         "associated with one of them (associations between copied records "
                         "only).")


class SandboxOut(Model):
    id: str = Field(description="The sandbox's account id.")
    name: str
    sourceAccountId: str = Field(description="The account it was copied from.")
    createdAt: str


class SandboxCreated(SandboxOut):
    records: str = Field(description="What was asked: 'all' or 'sample:N'.")
    copiedRecords: int = Field(description="How many records were copied.")
    syncValuesPending: bool = Field(description="Whether the sync engine is still "
                                    "recomputing the sandbox's sync values (a sample's, or "
                                    "when the source had sync work pending).")
    token: str = Field(description="A token for your user in the sandbox, with this "
                       "token's scopes; shown only now.")


class SandboxList(Model):
    results: list[SandboxOut]


def sandbox_out(s: Sandbox) -> SandboxOut:
    return SandboxOut(id=str(s.account_id), name=s.name, sourceAccountId=str(s.source_id),
                      createdAt=format_ms(s.created_ms))


def sandbox_created(s: Sandbox) -> SandboxCreated:
    assert s.token is not None
    return SandboxCreated(**sandbox_out(s).model_dump(), records=s.records,
                          copiedRecords=s.copied_records or 0, syncValuesPending=s.backfill,
                          token=s.token.token)
