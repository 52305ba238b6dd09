"""Shapes shared by every HubSpot-compatible endpoint: errors, paging, batch envelopes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Model(BaseModel):
    """Base of request and response bodies: camelCase on the wire, extra members ignored."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")


class ErrorDetailOut(Model):
    message: str
    code: str | None = None
    in_: str | None = Field(default=None, alias="in")
    subCategory: str | None = None
    context: dict[str, list[str]] | None = None


class ErrorOut(Model):
    """HubSpot's error shape."""

    status: str = "error"
    message: str
    correlationId: str
    category: str
    subCategory: str | None = None
    context: dict[str, list[str]] | None = None
    links: dict[str, str] | None = None
    errors: list[ErrorDetailOut] | None = None


class NextPage(Model):
    after: str
    link: str | None = None


class Paging(Model):
    next: NextPage


class StandardError(Model):
    """One failed input of a batch (HubSpot's ``StandardError``)."""

    status: str = "error"
    category: str
    message: str
    context: dict[str, list[str]] = Field(default_factory=dict)
    errors: list[ErrorDetailOut] = Field(default_factory=list)
    links: dict[str, str] = Field(default_factory=dict)
    subCategory: dict[str, Any] | None = None


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": text}
    for code, text in (
        (400, "The request is not valid; nothing was changed."),
        (401, "The token is missing or not valid."),
        (403, "The token lacks a scope, or the user lacks access."),
        (404, "No such object in this account."),
        (409, "The object already exists or conflicts with another."),
    )
}
