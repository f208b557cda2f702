"""Schemathesis against /api/v1/schema/ over every operation: no 500, no status the schema does not
document, no response that violates it. Runs against a live server with a member's token, the
workspace's ingest key and the workspace's real slug (so requests reach past the 404)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from knox.models import AuthToken

from tenancy.models import Membership
from tests.conftest import crm_users, journeys

REPO_ROOT = Path(__file__).resolve().parent.parent

CONFIG = """
headers = { Authorization = "Token ${FUZZ_TOKEN}" }
request-timeout = 30

[parameters]
"path.slug" = "${FUZZ_SLUG}"

[[operations]]
include-path-regex = "/batch$"
headers = { Authorization = "Bearer ${FUZZ_INGEST_KEY}" }
"""


FUZZ_CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance"
# Checks that only a sequence of calls can make: a deleted configuration is gone (and stays gone),
# a created one can be read back.
STATEFUL_CHECKS = FUZZ_CHECKS + ",use_after_free,ensure_resource_availability"

postgresql_only = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="fuzzing runs once, in the PostgreSQL pass of make test (the production engine)",
)


@pytest.fixture
def schemathesis_run(
    live_server, make_workspace, django_user_model, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Runs schemathesis against the live server's schema with a member's token, the workspace's
    ingest key and its real slug (so requests reach past the 404)."""
    from rest_framework.throttling import SimpleRateThrottle

    # The fuzzer sends thousands of requests with one token; 429 is documented, but fuzzing past it
    # is the point.
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"api": "1000000/min", "ingest": "1000000/min"})
    workspace, ingest_key = make_workspace("fuzz", tz="Asia/Shanghai")
    crm_users(workspace, [{"external_id": "u1", "email": "u1@zylker.com", "country": "CN"}])
    journeys(
        workspace,
        [
            ("u1", "2025-10-06T09:00:00+08:00", "Leads", "create", "", "L-1"),
            ("u1", "2025-10-06T09:05:00+08:00", "Leads", "view", "detail_view", "L-1"),
            ("u1", "2025-10-07T10:00:00+08:00", "Leads", "convert", "", "L-1"),
        ],
    )
    user = django_user_model.objects.create_user("fuzzer")
    Membership.objects.create(workspace=workspace, user=user, role="admin")
    _, token = AuthToken.objects.create(user, expiry=timedelta(days=1))
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    env = {
        **os.environ,
        "FUZZ_TOKEN": token,
        "FUZZ_SLUG": workspace.slug,
        "FUZZ_INGEST_KEY": ingest_key,
        "HYPOTHESIS_STORAGE_DIRECTORY": str(tmp_path / "hypothesis"),
    }

    def run(*arguments: str, hooks: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                Path(sys.executable).with_name("schemathesis"),
                "--config-file",
                str(config),
                "run",
                f"{live_server.url}/api/v1/schema/",
                "--seed",
                "20261122",
                "--rate-limit",
                "10000/s",
                *arguments,
            ],
            env={**env, "SCHEMATHESIS_HOOKS": hooks, "PYTHONPATH": str(REPO_ROOT)} if hooks else env,
            capture_output=True,
            text=True,
            timeout=600,
            cwd=tmp_path,
        )

    return run


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_every_operation_survives_fuzzing(schemathesis_run) -> None:
    result = schemathesis_run(
        "--checks",
        FUZZ_CHECKS,
        "--max-examples",
        os.environ.get("FUZZ_EXAMPLES", "30"),
        "--phases",
        "examples,coverage,fuzzing",
        "--max-time",
        os.environ.get("FUZZ_SECONDS", "150"),
    )
    assert result.returncode == 0, result.stdout[-15000:] + result.stderr[-3000:]
    print(result.stdout, result.stderr)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_saved_configurations_survive_sequences_of_calls(schemathesis_run) -> None:
    """Stateful mode over funnels and filter sets: create, read, change, delete and query in random
    orders, the created ids passed along by the schema's links (crm_usage.schema.add_links); half
    the bodies that save a configuration are valid ones (tests/fuzz_hooks.py), so that sequences
    reach past the 400."""
    result = schemathesis_run(
        "--include-path-regex",
        "/(funnels|filter-sets)/",
        "--checks",
        STATEFUL_CHECKS,
        "--max-examples",
        os.environ.get("FUZZ_STATEFUL_EXAMPLES", "30"),
        "--phases",
        "stateful",
        "--max-time",
        os.environ.get("FUZZ_STATEFUL_SECONDS", "90"),
        hooks="tests.fuzz_hooks",
    )
    assert result.returncode == 0, result.stdout[-15000:] + result.stderr[-3000:]
    print(result.stdout, result.stderr)
