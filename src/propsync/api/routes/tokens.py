"""propsync's token endpoints: list the tokens you may manage, revoke one."""

from __future__ import annotations

from fastapi import APIRouter, Response

from propsync.api.deps import EngineDep, PrincipalDep
from propsync.api.schemas.common import ERROR_RESPONSES
from propsync.api.schemas.tokens import RATE_LIMIT_RESPONSES, TokensOut, token_out
from propsync.services import tokens as svc

router = APIRouter(prefix="/propsync/v1", tags=["Tokens"],
                   responses={**ERROR_RESPONSES, **RATE_LIMIT_RESPONSES})


@router.get("/tokens", response_model=TokensOut)
def list_tokens(engine: EngineDep, principal: PrincipalDep) -> TokensOut:
    """The API tokens you may manage: your own, or (a super admin) every token of the
    account. A token's secret is never shown again after it was created."""
    return TokensOut(results=[token_out(v) for v in svc.list_tokens(engine, principal)])


@router.delete("/tokens/{tokenId}", status_code=204, response_class=Response)
def revoke_token(tokenId: str, engine: EngineDep, principal: PrincipalDep) -> Response:
    """Revoke a token: every request with it is refused (401) from now on. Revoking a
    revoked token changes nothing; a token you may not manage is a 404."""
    svc.revoke_token(engine, principal, svc.parse_token_id(tokenId))
    return Response(status_code=204)
