"""The one CSV writer: every export, the API's ``format=csv`` and a page's own download alike.

Two things every export gets here, once:

- **No formulas.** A text cell that a spreadsheet would run as a formula (it starts with ``=``, ``+``,
  ``-``, ``@``, a tab or a carriage return: OWASP's "CSV injection") is written with a leading
  apostrophe, which spreadsheets show as text. Anyone with an ingest key chooses user names,
  external ids, feature names and details, and an admin opens the export in Excel. Numbers are
  written as they are (a negative change stays a number).
- **Excel-friendly UTF-8 on request** (``excel=1``): a byte-order mark first, so Excel reads Chinese
  names as UTF-8 instead of the system's code page.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.http import HttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


def safe_cell(value: Any) -> Any:
    """A text that a spreadsheet would take for a formula, made text; anything else as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], *, excel: bool = False) -> str:
    """``rows`` under a header of ``columns`` (keys not in it are left out); the header even with no
    rows. ``excel``: a byte-order mark first."""
    buffer = io.StringIO()
    if excel:
        buffer.write(BOM)
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    writer.writerows({key: safe_cell(value) for key, value in row.items()} for row in rows)
    return buffer.getvalue()


def wants_excel(params: Mapping[str, Any]) -> bool:
    """``excel=1`` (or true, yes) in a request's parameters."""
    return str(params.get("excel", "")).strip().lower() in ("1", "true", "yes")


def csv_download(
    rows: Iterable[Mapping[str, Any]], columns: Sequence[str], filename: str, *, excel: bool = False
) -> HttpResponse:
    """A page's CSV download (an attachment named ``filename``)."""
    response = HttpResponse(csv_text(rows, columns, excel=excel), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
