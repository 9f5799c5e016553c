"""The CSV export (hwd.hall.stats.to_csv): every row's columns, no cell a spreadsheet would run."""

from __future__ import annotations

import csv
import io

from hypothesis import given, settings, strategies as st

from hwd.hall.stats import to_csv

keys = st.sampled_from(["id", "score", "reason", "staff", "followup_due", "note"])
values = st.one_of(st.none(), st.integers(-5, 5), st.text(max_size=12))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.dictionaries(keys, values, min_size=1, max_size=6), min_size=1, max_size=8))
def test_every_column_of_every_row_and_no_formula_cells(rows):
    text = to_csv(rows)
    parsed = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(parsed) == len(rows)
    assert set(parsed[0]) == {k for row in rows for k in row}
    for row, back in zip(rows, parsed):
        for key, value in row.items():
            if isinstance(value, str):
                cell = back[key]
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (value, cell)
                assert cell in (value, "'" + value)
