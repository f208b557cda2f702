"""Event times as integer microseconds since the epoch, in Python (``epoch_us``) and in the database
(``EpochMicroseconds``): the walks over raw events (funnels, paths) compare and subtract them exactly
and load them much faster than aware datetimes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import BigIntegerField, Func

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_us(moment: datetime) -> int:
    """Microseconds since 1970-01-01 UTC, exactly (integers compare and subtract fast and exactly)."""
    return (moment - EPOCH) // timedelta(microseconds=1)


class EpochMicroseconds(Func):
    """``occurred_at`` as integer microseconds since the epoch, computed by the database.

    Converting millions of timestamps into aware datetimes is the costliest part of reading events on
    SQLite (Django parses each text value in Python); integers come through as they are. Exact on
    both backends: SQLite stores ``YYYY-MM-DD HH:MM:SS[.ffffff]`` in UTC, PostgreSQL's EXTRACT(EPOCH)
    is exact numeric.
    """

    output_field = BigIntegerField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, tuple[Any, ...]]:
        sql, params = compiler.compile(self.source_expressions[0])
        return (
            f"(CAST(strftime('%%s', {sql}) AS INTEGER) * 1000000 + CAST(substr({sql}, 21, 6) AS INTEGER))",
            (*params, *params),
        )

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, tuple[Any, ...]]:  # type: ignore[override]
        sql, params = compiler.compile(self.source_expressions[0])
        return f"CAST(ROUND(EXTRACT(EPOCH FROM {sql}) * 1000000) AS BIGINT)", tuple(params)
