"""The shared number formatters (core/formatting.py) on hand-checked values, in English and Chinese."""

from __future__ import annotations

import pytest
from django.utils import translation

from core.formatting import DASH, hours_minutes


@pytest.mark.parametrize(
    ("minutes", "english", "chinese"),
    [
        (None, DASH, DASH),
        (0, "0 min", "0 分钟"),
        (0.4, "0 min", "0 分钟"),
        (35.5, "36 min", "36 分钟"),
        (59.6, "1 h 00 min", "1 小时 00 分"),
        (65.0, "1 h 05 min", "1 小时 05 分"),
        (2939.9, "49 h 00 min", "49 小时 00 分"),  # the "2,939.9": two days of sessions in hours
    ],
)
def test_session_time_reads_as_hours_and_minutes(minutes, english, chinese) -> None:
    with translation.override("en"):
        assert hours_minutes(minutes) == english
    with translation.override("zh-hans"):
        assert hours_minutes(minutes) == chinese
