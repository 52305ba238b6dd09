"""Workflow JSON exported from a HubSpot portal, read from files for the migration scan
(``propsync migrate scan --file PATH --dir PATH``).

A file holds one flow (``GET /automation/v4/flows/{id}`` output), a list of flows, or a
batch read's answer (``{"results": [...]}``); a folder's ``*.json`` files are read in name
order. A file that is not JSON is kept as a document whose body is ``None`` (the scan
says it is no flow), so one bad export does not hide the others. Reading is bounded: at
most ``MAX_FILE_BYTES`` a file, and the scan's own ``MAX_DOCUMENTS`` in all.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from propsync.domain.errors import ValidationError
from propsync.services.migration_scan import MAX_DOCUMENT_CHARS, MAX_DOCUMENTS

MAX_FILE_BYTES = 4 * MAX_DOCUMENT_CHARS


def read_documents(files: Sequence[Path], folder: Path | None = None
                   ) -> list[tuple[str, Any]]:
    """``(label, body)`` per flow in ``files``, then in ``folder``'s ``*.json`` files;
    the label is the file's path (with ``#i`` for the i-th flow of a file of several)."""
    paths = list(files)
    if folder is not None:
        if not folder.is_dir():
            raise ValidationError(f"{folder} is not a folder.")
        paths += sorted(p for p in folder.iterdir() if p.suffix == ".json" and p.is_file())
    out: list[tuple[str, Any]] = []
    for path in paths:
        out += _read(path)
        if len(out) > MAX_DOCUMENTS:
            raise ValidationError(f"A scan takes at most {MAX_DOCUMENTS} workflows; these "
                                  "files hold more. Scan them in parts.")
    return out


def _read(path: Path) -> list[tuple[str, Any]]:
    if not path.is_file():
        raise ValidationError(f"{path} is not a file.")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ValidationError(f"{path} has more than {MAX_FILE_BYTES:,} bytes; a workflow "
                              "export is smaller.")
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return [(str(path), None)]
    if isinstance(body, dict) and isinstance(body.get("results"), list):
        body = body["results"]
    if isinstance(body, list):
        return [(f"{path}#{i + 1}", item) for i, item in enumerate(body)]
    return [(str(path), body)]
