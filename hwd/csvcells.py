"""CSV that a spreadsheet opens without running anything: the one place where hwd's exports (the
hall's ``hall.export``, hwd-central's supervision tables) turn rows into CSV text.

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula
to Excel and LibreOffice (``=HYPERLINK(…)``, ``@SUM(…)``, ``-2+3+cmd|' /C calc'!A0``): such text
gets a leading apostrophe, which the spreadsheet shows as plain text (OWASP, CSV injection).
Numbers stay numbers. Rows end in CRLF (RFC 4180), so the writer quotes every cell holding a CR
or LF and a lone CR in a reason cannot start a forged row. No core or hall imports: hwd-central
uses it as it is.
"""

from __future__ import annotations

import csv
import io
from typing import Any, Iterable, Sequence

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """A value as written to a CSV cell: None as empty, formula-like text with an apostrophe."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(rows: Iterable[dict], columns: Sequence[str]) -> str:
    """``rows`` as CSV text with a header of ``columns`` (a row's other keys are left out, a
    missing one is an empty cell), every cell through ``cell``."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([cell(c) for c in columns])
    writer.writerows([cell(row.get(c)) for c in columns] for row in rows)
    return buf.getvalue()
