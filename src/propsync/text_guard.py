"""One check at the HTTP edge, for the API and the web UI: every text a request carries
can be stored.

A NUL character or a lone surrogate (``domain/text.py``) in a path parameter, a query
parameter, a form field or any string of a JSON body (keys included) is a 400 before a
handler reads the request. So no route, page, service or error message meets such text:
PostgreSQL refuses NUL, and a lone surrogate cannot even be written back in a reply.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from fastapi import Depends, Request

from propsync.domain.errors import ErrorDetail, ValidationError
from propsync.domain.text import strings_of, unstorable

# A JSON body can carry a NUL or a surrogate only as an escape (raw ones are not JSON), and
# a form only as %00 (the UI reads forms as UTF-8 with replacement, so no surrogate
# survives): a body without one is not parsed here. A JSON body with one is parsed once,
# for FastAPI too (the request keeps the parse).
_JSON_ESCAPES = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
_FORM = "application/x-www-form-urlencoded"


async def refuse_unstorable_text(request: Request) -> None:
    """Raise a 400 naming the first text of the request that no store can hold."""
    texts: list[tuple[str, str]] = [(f"path parameter {k!r}", str(v))
                                    for k, v in request.path_params.items()]
    texts += [(f"query parameter {k!r}", k + v) for k, v in request.query_params.multi_items()]
    for where, text in [*texts, *await _body_texts(request)]:
        reason = unstorable(text)
        if reason is not None:
            message = f"The text of {where} {reason}."
            raise ValidationError(message, [ErrorDetail(message, "INVALID_TEXT", in_=where)])


async def _body_texts(request: Request) -> list[tuple[str, str]]:
    body = await request.body()
    if request.headers.get("content-type", "").startswith(_FORM):
        if b"%00" not in body and b"\x00" not in body:
            return []
        fields = parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)
        return [(f"form field {k[:100]!r}", k + v) for k, v in fields]
    if _JSON_ESCAPES.search(body) is None:
        return []
    try:
        data = await request.json()
    except (ValueError, RecursionError):
        return []  # not JSON: FastAPI answers that with its own 400
    return list(strings_of(data))


STORABLE_TEXT = Depends(refuse_unstorable_text)
