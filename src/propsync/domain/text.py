"""Text a store can hold: no NUL character, no lone surrogate.

PostgreSQL's ``text`` cannot hold the NUL character (``\\u0000``), and a lone UTF-16
surrogate (``\\ud800`` in JSON) is not a character at all: it has no UTF-8 form, so
neither store can keep it. Such text is refused where it comes in, with a 400 that says
why, rather than failing in the database.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")


def unstorable(text: str) -> str | None:
    """Why ``text`` cannot be stored, as the end of a sentence about it ("... may not
    contain the NUL character (\\u0000)"), or ``None`` if it can."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "may not contain the NUL character (\\u0000)"
    return (f"contains a lone surrogate (\\u{ord(found.group()):04x}), which is not a "
            "character and cannot be stored as UTF-8")


def strings_of(data: object) -> Iterator[tuple[str, str]]:
    """Every string in ``data`` (keys too) with where it is, without recursion: a body
    may nest deeper than Python's stack."""
    stack: list[tuple[str, object]] = [("the body", data)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            yield where, item
        elif isinstance(item, dict):
            for key, value in item.items():
                yield f"a key of {where}", key
                name = key[:100]  # storable: a key is checked before what it holds
                stack.append((f"{where}.{name}" if where != "the body" else name, value))
        elif isinstance(item, list):
            stack.extend((f"{where}[{i}]", value) for i, value in enumerate(item))


_NOT_NAME = re.compile(r"[^a-z0-9]+")


def name_from_ascii(text: str) -> str:
    """An internal name from ASCII text: lowercase letters, digits and single underscores,
    at most 100 characters, starting with a letter ("p_" before a leading digit); "" when
    nothing is left. Letters outside ASCII are transliterated before (``services/names``),
    so that "Ærlig Øl" keeps its letters."""
    name = _NOT_NAME.sub("_", text.lower()).strip("_")[:100].rstrip("_")
    return f"p_{name}"[:100].rstrip("_") if name[:1].isdigit() else name
