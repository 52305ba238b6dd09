"""Workflow JSON exported from a HubSpot portal, read from files for the migration scan
(``propsync migrate scan --file PATH --dir PATH``, and the upload on Automation →
Migrations).

A file holds one flow (``GET /automation/v4/flows/{id}`` output), a list of flows, or a
batch read's answer (``{"results": [...]}``); a folder's ``*.json`` files are read in name
order. ``parse_export`` reads one file's bytes into its flows and says, for what is no
flow at all, why (``Unreadable``: not UTF-8, not JSON, a number or a string rather than an
object or a list, text no store can hold); the command line keeps such a file as a
document whose body is ``None`` (the scan says it is no flow), so one bad export does not
hide the others. Reading is bounded: at most ``MAX_FILE_BYTES`` a file, and the scan's
own ``MAX_DOCUMENTS`` in all.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from propsync.domain.errors import ValidationError
from propsync.domain.text import strings_of, unstorable
from propsync.services.migration_scan import MAX_DOCUMENT_CHARS, MAX_DOCUMENTS

MAX_FILE_BYTES = 4 * MAX_DOCUMENT_CHARS
KINDS = {bool: "true or false", int: "a number", float: "a number", str: "a string",
         type(None): "null", list: "a list"}


@dataclass(frozen=True)
class Unreadable:
    """A file, or one item of a file's list, that holds no workflow: ``reason`` says why,
    as the end of a sentence about ``label`` ("is not valid JSON: ...")."""

    label: str
    reason: str


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
    return [(d.label, None) if isinstance(d, Unreadable) else d
            for d in parse_export(str(path), path.read_bytes())]


def parse_export(label: str, data: bytes) -> list[tuple[str, Any] | Unreadable]:
    """The flows of one exported file, each ``(label, body)`` (``label#i`` for the i-th of
    a list), or why the file, or an item of its list, holds none."""
    if len(data) > MAX_FILE_BYTES:
        return [Unreadable(label, f"has {len(data):,} bytes; a workflow export has at most "
                                  f"{MAX_FILE_BYTES:,}.")]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [Unreadable(label, "is not UTF-8 text, so it is not JSON.")]
    if not text.strip():
        return [Unreadable(label, "is empty.")]
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        return [Unreadable(label, f"is not valid JSON: {exc.msg} at line {exc.lineno}, "
                                  f"column {exc.colno}.")]
    except (ValueError, RecursionError):
        return [Unreadable(label, "is not JSON propsync can read (nested too deeply, or "
                                  "a number too long).")]
    return _flows_of(label, body)


def _flows_of(label: str, body: Any) -> list[tuple[str, Any] | Unreadable]:
    if isinstance(body, dict) and isinstance(body.get("results"), list):
        body = body["results"]
    if isinstance(body, list):
        if not body:
            return [Unreadable(label, "holds an empty list: no workflow to scan.")]
        return [_one(f"{label}#{i + 1}", item, "is") for i, item in enumerate(body)]
    return [_one(label, body, "holds")]


def _one(label: str, body: Any, verb: str) -> tuple[str, Any] | Unreadable:
    if not isinstance(body, dict):
        what = KINDS.get(type(body), "no object")
        return Unreadable(label, f"{verb} {what}, not a workflow: a flow is a JSON object "
                                 "(or give a list of them).")
    for where, text in strings_of(body):
        reason = unstorable(text)
        if reason is not None:
            return Unreadable(label, f"cannot be scanned: the text of {where} {reason}.")
    return label, body
