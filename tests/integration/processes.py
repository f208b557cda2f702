"""Real Celery processes (worker, beat) and Redis restarts for the integration tests.

They run against pytest-django's test database, so the tests using them need ``transactional_db``:
what a test writes must be committed for a worker to see it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from django.db import connection

REPO_ROOT = Path(__file__).resolve().parents[2]
DATABASE_URL = os.environ.get("DATABASE_URL", "")
BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
ON_POSTGRES = urlsplit(DATABASE_URL).scheme in {"postgres", "postgresql", "pgsql", "postgis"}

needs_services = pytest.mark.skipif(
    not (ON_POSTGRES and BROKER_URL),
    reason="integration: needs DATABASE_URL=postgres://… and CELERY_BROKER_URL=redis://… (make test starts both for its second pass)",
)


def test_database_url() -> str:
    """DATABASE_URL with its database name replaced by pytest-django's test database."""
    name = connection.settings_dict["NAME"]
    parts = urlsplit(DATABASE_URL)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


test_database_url.__test__ = False  # type: ignore[attr-defined]  # not a test, despite its name


def celery_env(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "CELERY_BROKER_URL": BROKER_URL,
        "DJANGO_SETTINGS_MODULE": "crm_usage.settings",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def celery(*args: str, env: dict[str, str], timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "celery", "-A", "crm_usage", *args],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


class CeleryProcess:
    """``celery worker`` or ``celery beat`` in a subprocess, logging to a file."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path, ready_marker: str) -> None:
        self.args, self.env, self.log_path, self.ready_marker = args, env, log_path, ready_marker
        self.process: subprocess.Popen[bytes] | None = None

    @classmethod
    def worker(cls, env: dict[str, str], log_path: Path) -> CeleryProcess:
        args = ["worker", "--pool=solo", "--concurrency=1", "--without-gossip", "--without-mingle", "-l", "info"]
        return cls([*args, "-n", f"test-{os.getpid()}-{time.monotonic_ns()}@%h"], env, log_path, " ready.")

    @classmethod
    def beat(cls, env: dict[str, str], log_path: Path) -> CeleryProcess:
        schedule = log_path.with_suffix(".schedule")
        return cls(["beat", "-l", "info", "-s", str(schedule)], env, log_path, "beat: Starting")

    def start(self, timeout: float = 60) -> None:
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "crm_usage", *self.args],
                cwd=REPO_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while True:
            text = self.log_path.read_text(errors="replace")[offset:]
            if self.ready_marker in text:
                return
            if self.process.poll() is not None:
                pytest.fail(f"celery {self.args[0]} exited with code {self.process.returncode}:\n{text}")
            if time.monotonic() > deadline:
                pytest.fail(f"celery {self.args[0]} was not ready after {timeout} s:\n{text}")
            time.sleep(0.2)

    def kill(self) -> None:
        """SIGKILL: a crash, with no chance to finish or acknowledge the task in hand."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if not self.process or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # warm shutdown: finishes the task in hand
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()


def restart_redis(url: str = BROKER_URL, timeout: float = 20) -> None:
    """Shut the broker down (AOF flushed) and start it again with the same port and files."""
    client = redis.Redis.from_url(url)
    config = {k: client.config_get(k)[k] for k in ("port", "dir", "pidfile", "logfile")}
    with contextlib.suppress(redis.ConnectionError):  # the connection drops as the server exits
        client.shutdown()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            client.ping()
        except redis.ConnectionError:
            break
        time.sleep(0.1)
    subprocess.run(
        ["redis-server", "--port", config["port"], "--bind", "127.0.0.1", "--daemonize", "yes", "--dir", config["dir"],
         "--appendonly", "yes", "--save", "", "--pidfile", config["pidfile"], "--logfile", config["logfile"]],
        check=True, timeout=timeout,
    )  # fmt: skip
    while time.monotonic() < deadline:
        try:
            if client.ping():
                return
        except redis.ConnectionError:
            time.sleep(0.1)
    pytest.fail("Redis did not come back after the restart")
