"""Forms that carry files: ``multipart/form-data`` read with the standard library.

``posted_upload`` is ``core.posted_form`` for a form with ``enctype="multipart/form-data"``:
its text fields and its files, refused (``CsrfRefused``, a 403 page) unless it carries this
session's CSRF token. Reading is bounded before anything is parsed: the body (at most
``MAX_UPLOAD_BYTES``; the app's ``BodyLimit`` refuses a larger one before it is read
whole) and its parts (at most ``MAX_PARTS``, counted by their boundaries). A body it cannot
take is not raised but returned as the ``Upload``'s ``refusal`` (a 4xx ``PropsyncError``),
so that the page can answer with its form and the reason. A form sent urlencoded (no
files) is read too.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from propsync.domain.errors import BodyTooLargeError, PropsyncError, ValidationError
from propsync.web.core import CsrfRefused, Form, current_session

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_FILES = 100
MAX_PARTS = MAX_FILES + 10  # the files, and a form's few text fields
MAX_FILENAME_CHARS = 200
_FORM = "application/x-www-form-urlencoded"
_MULTIPART = "multipart/form-data"


@dataclass(frozen=True)
class UploadedFile:
    """One file of a form: its input's ``field``, the name the browser gave (a folder's
    files keep their path inside it) and its bytes."""

    field: str
    filename: str
    data: bytes


class Upload(Form):
    """A POSTed form with files, or the reason it could not be read (``refusal``)."""

    def __init__(self, fields: dict[str, list[str]], files: list[UploadedFile],
                 refusal: PropsyncError | None = None) -> None:
        super().__init__(fields)
        self.files = files
        self.refusal = refusal


def too_many_files() -> ValidationError:
    return ValidationError(f"Choose at most {MAX_FILES} files at a time (a folder's files "
                           "count too); scan the others in another upload.")


async def posted_upload(request: Request) -> Upload:
    """The POSTed form with its files; raises ``CsrfRefused`` without this session's token
    (as ``posted_form``), and returns an ``Upload`` with a ``refusal`` for a body it will
    not read (413 past ``MAX_UPLOAD_BYTES``, 400 for too many parts or a malformed one)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES:
        return Upload({}, [], _too_large())
    body = await request.body()
    if len(body) > MAX_UPLOAD_BYTES:
        return Upload({}, [], _too_large())
    content_type = request.headers.get("content-type", "")
    try:
        upload = await run_in_threadpool(read_upload, content_type, body)
    except PropsyncError as exc:
        return Upload({}, [], exc)
    session = await run_in_threadpool(current_session, request)
    if not session.accepts(upload.get("csrf")):
        raise CsrfRefused()
    return upload


def _too_large() -> BodyTooLargeError:
    return BodyTooLargeError(f"The upload is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} "
                             "MiB, more than a scan reads. Choose fewer or smaller files.")


def read_upload(content_type: str, body: bytes) -> Upload:
    """A form's fields and files from its body (``ValidationError`` when it is not one)."""
    if content_type.split(";")[0].strip().lower() == _FORM:
        return Upload(parse_qs(body.decode("utf-8", errors="replace"),
                               keep_blank_values=True), [])
    head = _head(content_type)
    boundary = head.get_boundary()
    if head.get_content_type() != _MULTIPART or not boundary:
        raise ValidationError("Send this form as multipart/form-data, as the page does.")
    marker = b"--" + boundary.encode("utf-8", errors="replace")
    chunks = body.split(marker)
    if len(chunks) > MAX_PARTS + 2:  # + 2: what comes before the first and after the last
        raise too_many_files()
    if len(chunks) < 2 or not chunks[-1].startswith(b"--"):
        raise ValidationError("This form's body is not multipart/form-data: it does not end "
                              "with its boundary.")
    fields: dict[str, list[str]] = {}
    files: list[UploadedFile] = []
    for chunk in chunks[1:-1]:
        _take(_part(chunk), fields, files)
    return Upload(fields, files)


def _part(chunk: bytes) -> Message:
    """One part between two boundaries: its headers parsed (``headersonly``: a part that
    says it is multipart itself is not parsed further), its bytes its payload."""
    chunk = chunk.removeprefix(b"\r\n").removeprefix(b"\n")
    chunk = chunk.removesuffix(b"\n").removesuffix(b"\r")
    return BytesParser(policy=HTTP).parsebytes(chunk, headersonly=True)


def _head(content_type: str) -> Message:
    return BytesParser(policy=HTTP).parsebytes(_header_bytes(content_type), headersonly=True)


def _header_bytes(content_type: str) -> bytes:
    return f"Content-Type: {content_type}\r\n\r\n".encode("utf-8", errors="replace")


def _take(part: Message, fields: dict[str, list[str]], files: list[UploadedFile]) -> None:
    name = part.get_param("name", header="content-disposition")
    if not isinstance(name, str):
        return  # not a form field (no name): a browser sends none such
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    filename = part.get_filename()
    if filename is None:
        fields.setdefault(_clean(name), []).append(data.decode("utf-8", errors="replace"))
    elif filename:  # an empty name: the input had no file chosen
        files.append(UploadedFile(_clean(name), _clean(filename)[:MAX_FILENAME_CHARS], data))
        if len(files) > MAX_FILES:
            raise too_many_files()


def _clean(text: str) -> str:
    """Text of a part's header as a page may show it: undecodable bytes replaced, control
    characters (NUL among them) dropped."""
    try:
        raw = text.encode("utf-8", errors="surrogateescape")  # the bytes the browser sent
    except UnicodeEncodeError:
        raw = text.encode("utf-8", errors="replace")
    text = raw.decode("utf-8", errors="replace")
    return "".join(c for c in text if c.isprintable())


UploadDep = Annotated[Upload, Depends(posted_upload)]
