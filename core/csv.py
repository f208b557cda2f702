"""The one CSV writer: every export, the API's ``format=csv`` and a page's own download alike."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.http import HttpResponse


def csv_text(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """``rows`` under a header of ``columns`` (keys not in it are left out); the header even with no rows."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def csv_download(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], filename: str) -> HttpResponse:
    """A page's CSV download (an attachment named ``filename``)."""
    response = HttpResponse(csv_text(rows, columns), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
