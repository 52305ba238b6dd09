"""Forms with files read with the standard library (``web/uploads.py``), and exported
workflow files read into flows or reasons (``services/migration_documents.parse_export``):
what a browser sends comes back field for field and byte for byte; anything else is a
``ValidationError``, never another exception."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from propsync.domain.errors import ValidationError
from propsync.services.migration_documents import MAX_FILE_BYTES, Unreadable, parse_export
from propsync.web.uploads import MAX_FILES, read_upload

BOUNDARY = "----propsyncTestBoundary7MA4YWxkTrZu0gW"
NAMES = st.text(st.characters(codec="utf-8", exclude_characters='"\\\r\n'), min_size=1,
                max_size=30).filter(lambda s: s.isprintable() and s == s.strip())


def multipart(fields: list[tuple[str, str]], files: list[tuple[str, str, bytes]]) -> bytes:
    """A body as Chromium sends a form: text fields, then files (name, filename, bytes)."""
    out = b""
    for name, value in fields:
        out += (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                f"{value}\r\n").encode()
    for name, filename, data in files:
        out += (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{filename}"\r\nContent-Type: application/json\r\n\r\n').encode()
        out += data + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


@settings(max_examples=200)
@given(st.lists(st.tuples(NAMES, st.text(st.characters(codec="utf-8"), max_size=50)),
                max_size=4),
       st.lists(st.tuples(NAMES, NAMES, st.binary(max_size=300)), max_size=5))
def test_fields_and_files_come_back_as_sent(fields, files):
    upload = read_upload(CONTENT_TYPE, multipart(fields, files))
    assert upload.fields == {name: [v for n, v in fields if n == name] for name, _ in fields}
    assert [(f.field, f.filename, f.data) for f in upload.files] == files


def test_a_file_input_left_empty_sends_no_file():
    upload = read_upload(CONTENT_TYPE, multipart([("csrf", "t")], [("files", "", b"")]))
    assert upload.files == [] and upload.get("csrf") == "t"


def test_more_files_than_a_scan_takes_are_refused_before_they_are_read():
    many = [("files", f"{i}.json", b"{}") for i in range(MAX_FILES + 1)]
    with pytest.raises(ValidationError, match=f"at most {MAX_FILES} files"):
        read_upload(CONTENT_TYPE, multipart([], many))
    assert len(read_upload(CONTENT_TYPE, multipart([], many[:MAX_FILES])).files) == MAX_FILES


@settings(max_examples=300)
@given(st.sampled_from(["", "text/plain", "multipart/form-data", CONTENT_TYPE,
                        "multipart/form-data; boundary=\"a b\"", "multipart/form-data; "
                        "boundary*=utf-8''%FF", "application/x-www-form-urlencoded"]),
       st.lists(st.sampled_from([b"--", BOUNDARY.encode(), b"\r\n", b"Content-Disposition: ",
                                 b"form-data; name=\"a\"", b"; filename=\"", b"\"", b"\xff",
                                 b"\x00", b"name*=utf-8''%ff", b"Content-Type: multipart/mixed;"
                                 b" boundary=q", b"--q", b"Content-Transfer-Encoding: base64",
                                 b"=?utf-8?q?=FF?=", b"%00"]), max_size=40))
def test_any_body_is_read_or_refused_with_a_validation_error(content_type, pieces):
    try:
        upload = read_upload(content_type, b"".join(pieces))
    except ValidationError:
        return
    for f in upload.files:
        assert f.filename.isprintable() and "\x00" not in f.field


def test_an_export_is_a_flow_a_list_or_a_batch_answer():
    flow = {"name": "Copy", "objectTypeId": "0-1"}
    assert parse_export("a.json", json.dumps(flow).encode()) == [("a.json", flow)]
    assert parse_export("b.json", b"\xef\xbb\xbf" + json.dumps([flow, flow]).encode()) == [
        ("b.json#1", flow), ("b.json#2", flow)]
    assert parse_export("c.json", json.dumps({"results": [flow]}).encode()) == [
        ("c.json#1", flow)]


@pytest.mark.parametrize(("data", "reason"), [
    (b'{"a": 1,}', "is not valid JSON: Expecting property name enclosed in double quotes at "
                   "line 1, column 9."),
    (b"\xff{}", "is not UTF-8 text, so it is not JSON."),
    (b"  \n", "is empty."),
    (b"[]", "holds an empty list: no workflow to scan."),
    (b"42", "holds a number, not a workflow: a flow is a JSON object (or give a list of "
            "them)."),
    (b'"text"', "holds a string, not a workflow: a flow is a JSON object (or give a list of "
                "them)."),
    (b"[" * 100_000 + b"]" * 100_000, "is not JSON propsync can read (nested too deeply, or "
                                      "a number too long)."),
    (b'{"name": "\\ud800"}', "cannot be scanned: the text of name contains a lone surrogate "
                             "(\\ud800), which is not a character and cannot be stored as "
                             "UTF-8."),
    (b" " * (MAX_FILE_BYTES + 1), f"has {MAX_FILE_BYTES + 1:,} bytes; a workflow export has "
                                  f"at most {MAX_FILE_BYTES:,}."),
])
def test_a_file_with_no_flow_says_why(data, reason):
    assert parse_export("x.json", data) == [Unreadable("x.json", reason)]


def test_each_item_of_a_list_is_judged_alone():
    assert parse_export("l.json", b'[{"name": "a"}, null, [1]]') == [
        ("l.json#1", {"name": "a"}),
        Unreadable("l.json#2", "is null, not a workflow: a flow is a JSON object (or give a "
                               "list of them)."),
        Unreadable("l.json#3", "is a list, not a workflow: a flow is a JSON object (or give "
                               "a list of them).")]
