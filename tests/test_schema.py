"""The OpenAPI schema generates without warnings and validates against the OpenAPI spec."""

from __future__ import annotations

import io

from django.core.management import call_command


def test_schema_is_valid_and_warning_free(tmp_path):
    out = tmp_path / "schema.yml"
    stderr = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out), stderr=stderr)
    text = out.read_text()
    assert "/api/v1/events/batch:" in text
    assert "ingestKey" in text and "knoxApiToken" in text
