"""Shapes shared by every HubSpot-compatible endpoint: errors, paging, batch envelopes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

T = TypeVar("T")
MAX_INPUTS = 100  # HubSpot's limit on the inputs of a batch, for every batch endpoint
# propsync's own limit on a list of property names to read: generous (an object type has
# a few hundred properties at most), but a request cannot name millions.
MAX_NAMES = 1_000


class Model(BaseModel):
    """Base of request and response bodies: camelCase on the wire, extra members ignored."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")


def at_most(limit: int, what: str) -> Callable[[object], object]:
    """A check that a list has at most ``limit`` items, made before any item is read."""

    def check(value: object) -> object:
        if isinstance(value, list) and len(value) > limit:
            raise PydanticCustomError(
                "too_long", f"At most {limit:,} {what} are allowed, not {len(value):,}.")
        return value

    return check


# The inputs of a batch: at most 100 (HubSpot's limit).
Inputs = Annotated[list[T], Field(max_length=MAX_INPUTS),
                   BeforeValidator(at_most(MAX_INPUTS, "inputs in one batch"))]
# Property names to read.
Names = Annotated[list[str], Field(max_length=MAX_NAMES),
                  BeforeValidator(at_most(MAX_NAMES, "property names"))]


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
    """One failed input of a batch (HubSpot's ``StandardError``), as HubSpot sends it:
    ``status``, ``category``, ``message`` and ``context`` always, ``errors`` and ``links``
    only when there are some."""

    status: str = "error"
    category: str
    message: str
    context: dict[str, list[str]] = Field(default_factory=dict)
    errors: list[ErrorDetailOut] | None = None
    links: dict[str, str] | None = None
    subCategory: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _always_sent(self) -> StandardError:
        # Counted as set, so that a reply serialised with ``exclude_unset`` keeps them.
        self.model_fields_set.update(("status", "context"))
        return self


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
