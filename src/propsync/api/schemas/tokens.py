"""Bodies of the token endpoints: a token as listed, never with its secret."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from propsync.api.schemas.common import Model
from propsync.domain.properties import format_ms
from propsync.services.tokens import TokenView


class TokenOut(Model):
    id: str
    name: str = Field(description="What the token was named when it was created.")
    scopes: list[str]
    userId: str = Field(description="The user the token acts for.")
    userEmail: str
    createdAt: str
    lastUsedAt: str | None = Field(
        default=None, description="Its last request, to within a minute; null if never used.")
    revokedAt: str | None = Field(default=None, description="null while the token works.")


class TokensOut(Model):
    results: list[TokenOut]


def token_out(view: TokenView) -> TokenOut:
    return TokenOut(
        id=str(view.token_id), name=view.name, scopes=list(view.scopes),
        userId=str(view.user_id), userEmail=view.user_email,
        createdAt=format_ms(view.created_ms),
        lastUsedAt=format_ms(view.last_used_ms) if view.last_used_ms else None,
        revokedAt=format_ms(view.revoked_ms) if view.revoked_ms else None)


class RateLimitOut(Model):
    """HubSpot's reply to a request over a rate limit (429)."""

    status: str = "error"
    message: str = Field(description="e.g. 'You have reached your ten_secondly_rolling limit.'")
    errorType: str = "RATE_LIMIT"
    correlationId: str
    policyName: str = Field(description="TEN_SECONDLY_ROLLING, SECONDLY or DAILY.")
    groupName: str


RATE_LIMIT_RESPONSES: dict[int | str, dict[str, Any]] = {
    429: {"model": RateLimitOut, "description": "Over a rate limit: wait Retry-After seconds."}}
