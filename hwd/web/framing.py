"""One strict reading of an HTTP/1.1 request head (RFC 9112), for the servers whose own parsers
are lenient: waitress (hwd-ui over plain HTTP) and cheroot (over TLS). Pure: bytes in, names and
values out or ``BadHead``.

Request smuggling needs two parsers that disagree on where a request ends: a proxy or cache a
hall puts in front of hwd-ui, and the server behind it. Both servers took a request with
``Content-Length`` and ``Transfer-Encoding`` and read the body as chunked, so the rest of the
"body" became a second request; cheroot also took a ``Content-Length`` given twice (the last
wins), ``+5``, ``0_5`` and ``Content-Length :``, and both took folded lines. Here every message
whose framing could be read two ways is refused, and the head is held to a size a browser never
needs. (aiohttp, the phone server, already refuses all of these: its limits are set from here.)
"""

from __future__ import annotations

import re
from typing import Iterable

MAX_HEAD = 16 * 1024   # the request line and every header field, in all
MAX_LINE = 8 * 1024    # one request line or one field line
MAX_FIELDS = 100       # header fields in one request

_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VALUE = re.compile(rb"[\t\x20-\x7e\x80-\xff]*")
_DIGITS = re.compile(rb"[0-9]+")
_VERSION = re.compile(rb".* HTTP/([0-9])\.([0-9])")


class BadHead(ValueError):
    """The head is refused (400); the message says why, for the log."""


def request_line(line: bytes) -> tuple[int, int]:
    """Check the request line (without its CRLF); its HTTP version, (1, 0) when it names none."""
    if len(line) > MAX_LINE:
        raise BadHead("request line too long")
    if b"\r" in line or b"\n" in line or b"\0" in line:
        raise BadHead("bare CR, LF or NUL in the request line")
    match = _VERSION.fullmatch(line)
    return (int(match.group(1)), int(match.group(2))) if match else (1, 0)


def field(line: bytes) -> tuple[bytes, bytes]:
    """One field line (without its CRLF) as (lower-case name, value without surrounding blanks)."""
    if len(line) > MAX_LINE:
        raise BadHead("header line too long")
    if line[:1] in (b" ", b"\t"):
        raise BadHead("folded header line (obs-fold)")
    name, sep, value = line.partition(b":")
    if not sep or not _TOKEN.fullmatch(name):
        raise BadHead("malformed header name")  # "Content-Length : 5" too
    value = value.strip(b" \t")
    if not _VALUE.fullmatch(value):
        raise BadHead("control character in a header value")
    return name.lower(), value


def framing(fields: Iterable[tuple[bytes, bytes]], version: tuple[int, int]) -> None:
    """Refuse any framing two parsers could read two ways (``fields`` as ``field`` returns them)."""
    lengths, codings, count = [], [], 0
    for name, value in fields:
        count += 1
        if name == b"content-length":
            lengths.append(value)
        elif name == b"transfer-encoding":
            codings.append(value)
    if count > MAX_FIELDS:
        raise BadHead(f"more than {MAX_FIELDS} header fields")
    if len(lengths) > 1:
        raise BadHead("Content-Length given more than once")
    if lengths and not _DIGITS.fullmatch(lengths[0]):
        raise BadHead("Content-Length is not a number")
    if codings:
        if version < (1, 1):
            raise BadHead("Transfer-Encoding in an HTTP/1.0 request")
        if lengths:
            raise BadHead("both Content-Length and Transfer-Encoding")
        if len(codings) > 1 or codings[0].lower() != b"chunked":
            raise BadHead("Transfer-Encoding other than one chunked")


def head(block: bytes) -> list[tuple[bytes, bytes]]:
    """Check a whole head (the request line and field lines, CRLF after each, the blank line that
    ends it or not); its fields."""
    if len(block) > MAX_HEAD:
        raise BadHead("request head too large")
    if block.endswith(b"\r\n\r\n"):
        block = block[:-4]
    first, _, rest = block.partition(b"\r\n")
    version = request_line(first)
    lines = rest.split(b"\r\n") if rest else []
    if len(lines) > MAX_FIELDS:
        raise BadHead(f"more than {MAX_FIELDS} header fields")
    fields = [field(line) for line in lines]
    framing(fields, version)
    return fields
