"""The search request and response (HubSpot's PublicObjectSearchRequest)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from propsync.api.schemas.common import Model, Names, Paging
from propsync.api.schemas.objects import SimplePublicObject


class FilterIn(Model):
    propertyName: str
    operator: str
    value: str | int | float | bool | None = None
    values: list[str | int | float | bool] | None = None
    highValue: str | int | float | bool | None = None


class FilterGroupIn(Model):
    filters: list[FilterIn] = Field(default_factory=list)


class SortIn(Model):
    propertyName: str
    direction: Literal["ASCENDING", "DESCENDING"] = "ASCENDING"


class SearchIn(Model):
    filterGroups: list[FilterGroupIn] = Field(default_factory=list)
    sorts: list[SortIn | str] = Field(default_factory=list)
    query: str | None = None
    properties: Names = Field(default_factory=list)
    limit: int = 10
    after: str | int | None = None


class SearchOut(Model):
    total: int
    results: list[SimplePublicObject]
    paging: Paging | None = None
