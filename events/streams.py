"""Reading many raw events fast, for the walks over them (funnels, paths): times as integer
microseconds since the epoch, in Python (``epoch_us``) and in the database (``EpochMicroseconds``),
which compare and subtract exactly and load much faster than aware datetimes; and rows streamed
through a plain chunked cursor (``stream_rows``), without the ORM's per-row work."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import BigIntegerField, Func, QuerySet

# Rows fetched per round trip while streaming (a server-side cursor batch on PostgreSQL).
CHUNK_SIZE = 20_000

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


def stream_rows(queryset: QuerySet[Any]) -> Iterator[tuple[Any, ...]]:
    """The rows of a ``values_list`` queryset as the database driver gives them, fetched in chunks (a
    server-side cursor on PostgreSQL). Only for columns the driver already returns as wanted
    (integers, text): the ORM's converters, skipped here, cost more than the rows themselves."""
    sql, params = queryset.query.sql_with_params()
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(CHUNK_SIZE):
            yield from rows
