"""Record ids as callers write them: the one strict reading every entry point uses.

A record id is a decimal string of ASCII digits with no sign, no spaces and no leading
zero, at most 18 digits long (so it fits PostgreSQL's ``bigint``; ids start at 1). Any
other text names no record, even where Python would read a number from it: ``"²"`` and
``"\\u0661"`` (the Arabic-Indic one) pass ``str.isdigit``, ``" 1"`` and ``"00001"`` pass
``int``. Callers answer for such text exactly as for an id that does not exist.
"""

from __future__ import annotations

import re

MAX_DIGITS = 18
_RECORD_ID = re.compile(f"[1-9][0-9]{{0,{MAX_DIGITS - 1}}}")


def parse_record_id(raw: str | int) -> int | None:
    """The id ``raw`` spells, or ``None`` when ``raw`` spells no record id."""
    text = str(raw) if isinstance(raw, int) and not isinstance(raw, bool) else raw
    if isinstance(text, str) and _RECORD_ID.fullmatch(text):
        return int(text)
    return None
