"""The browser fixtures (tests/browser/conftest.py) for this directory's browser test."""

from tests.browser.conftest import browser, live_server, page  # noqa: F401
