"""Dependencies every route shares: the engine and the authenticated principal."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine

from propsync.api import ratelimit
from propsync.domain.auth import Principal
from propsync.services.accounts import identify

_bearer = HTTPBearer(auto_error=False, description="A propsync API token (pat-...).")


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_principal(
    request: Request,
    engine: Annotated[Engine, Depends(get_engine)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The principal behind the bearer token (401 without a valid one), once the request
    is admitted by the rate limits (429 beyond them)."""
    header = f"Bearer {credentials.credentials}" if credentials else None
    caller = identify(engine, header)
    ratelimit.admit(request, caller)
    return caller.principal


EngineDep = Annotated[Engine, Depends(get_engine)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
