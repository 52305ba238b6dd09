"""Automation → Migrations → *Scan workflows exported from HubSpot* (issue 16).

``/ui/automation/migrations/scan``: a form (on the Migrations page too) that takes
``GET /automation/v4/flows/{id}`` output exported from a HubSpot portal — .json files, a
folder of them, or JSON pasted — and answers with each workflow's verdict judged against
this account's schema (``services/migration_scan.scan_documents``) and, per file, why one
that holds no workflow could not be read (``services/migration_documents``). Nothing is
created. Bad input is a 4xx with the form and its reason: nothing chosen or pasted, too
many files, an upload too large (``web/uploads``), a file that is not JSON or holds no
object (its reason listed, the other files still scanned).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Response

from propsync.domain.errors import PropsyncError, ValidationError
from propsync.domain.migration_scan import Kind
from propsync.services import migration_scan as scan_svc
from propsync.services.migration_documents import Unreadable, parse_export
from propsync.services.migration_scan import ScanResult
from propsync.web.core import Ctx, CtxDep, WebRoute, render
from propsync.web.uploads import Upload, UploadDep

router = APIRouter(prefix="/ui", include_in_schema=False, route_class=WebRoute)
FILE_FIELDS = ("files", "folder")
PASTED = "Pasted JSON"
MAX_PASTE_SHOWN = 200_000  # characters of pasted JSON shown again in the form after a refusal


@dataclass(frozen=True)
class Read:
    """What an upload held: the workflows to scan, what could not be read, and the files
    of a chosen folder left out because they are not .json."""

    documents: list[tuple[str, Any]]
    unreadable: list[Unreadable]
    skipped: int


@router.get("/automation/migrations/scan")
def scan_page(ctx: CtxDep) -> Response:
    return _page(ctx)


@router.post("/automation/migrations/scan")
def scan_upload(ctx: CtxDep, upload: UploadDep) -> Response:
    if upload.refusal is not None:
        return _page(ctx, upload.refusal.status, upload.refusal.message)
    pasted = upload.get("pasted")
    try:
        read = read_upload(upload)
        result = (scan_svc.scan_documents(ctx.engine, ctx.principal, read.documents)
                  if read.documents else None)
    except PropsyncError as exc:
        return _page(ctx, exc.status, exc.message, pasted=pasted)
    error = _unread_words(read.unreadable, result is not None) if read.unreadable else None
    return _page(ctx, 400 if read.unreadable else 200, error, result, read, pasted)


def read_upload(upload: Upload) -> Read:
    """The documents of the form's files (a folder's .json files only) and pasted JSON,
    labelled by file name (``name#i``: the i-th flow of a file's list); ``ValidationError``
    when it holds neither."""
    chosen = [f for f in upload.files if f.field in FILE_FIELDS]
    kept = [f for f in chosen if f.field != "folder" or f.filename.lower().endswith(".json")]
    sources = [(f.filename, f.data) for f in kept]
    pasted = upload.get("pasted")
    if pasted:
        sources.append((PASTED, pasted.encode("utf-8")))
    if not sources:
        raise ValidationError(
            "Choose one or more .json files exported from HubSpot, or paste a workflow's "
            "JSON, then scan." if not chosen else
            "The folder holds no .json file: choose one with workflows exported from HubSpot.")
    documents: list[tuple[str, Any]] = []
    unreadable: list[Unreadable] = []
    for label, data in sources:
        for found in parse_export(label, data):
            if isinstance(found, Unreadable):
                unreadable.append(found)
            else:
                documents.append(found)
    return Read(_unique(documents), unreadable, len(chosen) - len(kept))


def _unique(documents: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """The scan keys its verdicts by label: a repeated one gets " (2)", " (3)"..."""
    seen: Counter[str] = Counter()
    out = []
    for label, body in documents:
        seen[label] += 1
        out.append((label if seen[label] == 1 else f"{label} ({seen[label]})", body))
    return out


def _unread_words(unreadable: list[Unreadable], scanned: bool) -> str:
    first = unreadable[0]
    said = (f"{first.label} {first.reason}" if len(unreadable) == 1 else
            f"{len(unreadable)} files or items hold no workflow propsync can read: each "
            "reason is below.")
    return said + (" The others were scanned; nothing was created." if scanned else "")


def _page(ctx: Ctx, status: int = 200, error: str | None = None,
          result: ScanResult | None = None, read: Read | None = None,
          pasted: str = "") -> Response:
    counts = Counter(f.verdict.kind for f in result.flows) if result else Counter()
    return render(ctx.request, "migration_scan.html", status=status, section="automation",
                  error=error, result=result, read=read, counts=counts, Kind=Kind,
                  pasted=pasted if len(pasted) <= MAX_PASTE_SHOWN else "")
