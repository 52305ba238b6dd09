"""CRM search: ``POST /crm/v3/objects/{objectType}/search``."""

from __future__ import annotations

from fastapi import APIRouter

from propsync.api.deps import EngineDep, PrincipalDep
from propsync.api.schemas.common import ERROR_RESPONSES, NextPage, Paging
from propsync.api.schemas.objects import to_public
from propsync.api.schemas.search import FilterIn, SearchIn, SearchOut, SortIn
from propsync.domain.filters import Filter
from propsync.services import search as svc
from propsync.text_guard import STORABLE_TEXT

router = APIRouter(tags=["Search"], responses=ERROR_RESPONSES,
                   dependencies=[STORABLE_TEXT])


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _filter(f: FilterIn) -> Filter:
    return Filter(f.propertyName, f.operator.upper(), _text(f.value),
                  tuple(_text(x) or "" for x in f.values or ()), _text(f.highValue))


def _sort(s: SortIn | str) -> tuple[str, bool]:
    if isinstance(s, str):
        return (s[1:], True) if s.startswith("-") else (s, False)
    return s.propertyName, s.direction == "DESCENDING"


@router.post("/crm/v3/objects/{objectType}/search", response_model=SearchOut,
             response_model_exclude_unset=True)
def search(objectType: str, body: SearchIn, engine: EngineDep,
           principal: PrincipalDep) -> SearchOut:
    """Records matching an OR of AND-groups of filters, sorted, with a text query."""
    request = svc.SearchRequest(
        groups=[[_filter(f) for f in g.filters] for g in body.filterGroups],
        sorts=[_sort(s) for s in body.sorts], query=body.query, properties=body.properties,
        limit=body.limit, after=_text(body.after))
    result = svc.search(engine, principal, objectType, request)
    out = SearchOut(total=result.total, results=[to_public(v) for v in result.views])
    if result.next_after is not None:
        out.paging = Paging(next=NextPage(after=result.next_after))
    return out
