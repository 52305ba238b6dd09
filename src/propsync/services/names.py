"""Internal names proposed from labels, for every language: "Ærlig Øl & Å" → "aerlig_ol_a".

The one place a name is proposed (the wizard's basic info, dropdown options, association
labels; the browser asks ``/ui/settings/propose-name`` rather than guessing itself).
Letters are transliterated to ASCII with ``anyascii`` (maintained tables for all of
Unicode), then ``domain.text.name_from_ascii`` keeps what a name may hold.
"""

from __future__ import annotations

from anyascii import anyascii

from propsync.domain.text import name_from_ascii


def propose_name(label: str) -> str:
    """The internal name proposed for ``label``; "" when it holds no letter or digit."""
    return name_from_ascii(anyascii(label))
