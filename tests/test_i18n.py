"""English and Simplified Chinese: the language switcher, Accept-Language, localised dates, and a
catalog (``locale/zh_Hans/LC_MESSAGES/django.po``) that is complete, well-formed and compiled.

Refresh the catalog after changing a UI string (needs GNU gettext: ``apt-get install gettext``)::

    .venv/bin/python manage.py makemessages -l zh_Hans --ignore=.venv --ignore=bench --ignore=staticfiles
    # translate every new or fuzzy entry in locale/zh_Hans/LC_MESSAGES/django.po, then
    .venv/bin/python manage.py compilemessages -l zh_Hans --ignore=.venv
"""

from __future__ import annotations

import ast
import gettext
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import translation

from tenancy.models import Membership, Workspace
from tests.conftest import journeys

ROOT = Path(__file__).resolve().parent.parent
LC_MESSAGES = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES"
PO = LC_MESSAGES / "django.po"
MO = LC_MESSAGES / "django.mo"
QUERY = "?as_of=2025-10-21&days=7"  # the period Oct 15–21, 2025
# The six tabs, metric and section titles, and the header's log-out button.
CHINESE_HOME_LABELS = (
    "首页",
    "活动",
    "趋势",
    "漏斗",
    "中心",
    "用户分析",
    "活跃用户",
    "每周交互次数",
    "出勤日历",
    "退出登录",
)

# --- a small .po reader (polib is not a dependency) ---------------------------------------------------


@dataclass
class Entry:
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)  # index 0 for a singular entry
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)


def _unquote(text: str) -> str:
    value = ast.literal_eval(text)
    assert isinstance(value, str)
    return value


def read_po(path: Path) -> list[Entry]:
    """Every entry of a .po file (obsolete ``#~`` entries left out; the header is the entry with msgid "")."""
    entries: list[Entry] = []
    entry = Entry()
    target: tuple[str, int] | None = None

    def finish() -> None:
        nonlocal entry, target
        if target is not None:
            entries.append(entry)
        entry, target = Entry(), None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
        elif line.startswith("#,"):
            if target is not None and target[0] == "msgstr":
                finish()
            entry.flags.update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            assert target is not None, f"{path}:{number}: continuation line outside an entry"
            name, index = target
            if name == "msgstr":
                entry.msgstr[index] += _unquote(line)
            else:
                setattr(entry, name, (getattr(entry, name) or "") + _unquote(line))
        else:
            keyword, _, rest = line.partition(" ")
            match = re.fullmatch(r"msgstr\[(\d+)\]", keyword)
            if keyword in ("msgctxt", "msgid") and target is not None and target[0] == "msgstr":
                finish()
            if keyword in ("msgctxt", "msgid", "msgid_plural"):
                setattr(entry, keyword, _unquote(rest))
                entry.line = entry.line or number
                target = (keyword, 0)
            elif keyword == "msgstr" or match:
                index = int(match.group(1)) if match else 0
                entry.msgstr[index] = _unquote(rest)
                target = ("msgstr", index)
            else:
                raise AssertionError(f"{path}:{number}: unexpected line {raw!r}")
    finish()
    return entries


def messages(path: Path) -> list[Entry]:
    return [e for e in read_po(path) if e.msgid != ""]


# Python-format placeholders: %(name)s, %s, %d, %02d, and the escaped percent sign %%.
PLACEHOLDER = re.compile(r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[sdif%]")
HTML_TAG = re.compile(r"</?([a-z]+)[^>]*>")


# --- the catalog ----------------------------------------------------------------------------------------


def test_catalog_header_is_chinese_with_one_plural_form() -> None:
    header = next(e for e in read_po(PO) if e.msgid == "")
    assert "fuzzy" not in header.flags
    assert "Language: zh_Hans\n" in header.msgstr[0]
    assert "Plural-Forms: nplurals=1; plural=0;" in header.msgstr[0]
    assert "charset=UTF-8" in header.msgstr[0]


def test_every_message_is_translated_and_none_is_fuzzy() -> None:
    entries = messages(PO)
    assert len(entries) > 500  # the whole interface, not a sample
    untranslated = [e.msgid for e in entries if not e.msgstr or any(not s.strip() for s in e.msgstr.values())]
    fuzzy = [e.msgid for e in entries if "fuzzy" in e.flags]
    assert untranslated == []
    assert fuzzy == []
    keys = [e.key for e in entries]
    assert len(keys) == len(set(keys)), "duplicate entries"


def test_plural_entries_have_exactly_one_form() -> None:
    for entry in messages(PO):
        if entry.msgid_plural is not None:
            assert sorted(entry.msgstr) == [0], entry.msgid
        else:
            assert sorted(entry.msgstr) == [0], entry.msgid


def test_translations_keep_placeholders_and_markup() -> None:
    problems = []
    for entry in messages(PO):
        sources = [entry.msgid] + ([entry.msgid_plural] if entry.msgid_plural else [])
        wanted = sorted(set().union(*(PLACEHOLDER.findall(s) for s in sources)))
        tags = sorted(set().union(*(HTML_TAG.findall(s) for s in sources)))
        for text in entry.msgstr.values():
            if sorted(set(PLACEHOLDER.findall(text))) != wanted:
                problems.append(f"placeholders of {entry.msgid!r}: {wanted} vs {text!r}")
            if sorted(set(HTML_TAG.findall(text))) != tags:
                problems.append(f"markup of {entry.msgid!r}: {tags} vs {text!r}")
            if "python-format" in entry.flags and "%" in PLACEHOLDER.sub("", text):
                problems.append(f"stray % in {text!r}")
    assert problems == []


def test_translations_are_chinese() -> None:
    """Every translation holds Chinese characters or full-width punctuation, except JSON examples."""
    not_chinese = [
        e.msgid
        for e in messages(PO)
        if not re.search(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]", "".join(e.msgstr.values()))
        and not e.msgid.startswith("{")  # JSON examples stay as they are
    ]
    assert not_chinese == []


def test_compiled_catalog_matches_the_po_file() -> None:
    """The .mo shipped next to the .po holds exactly its translations (run compilemessages after editing)."""
    assert MO.exists(), "run: manage.py compilemessages -l zh_Hans --ignore=.venv"
    with MO.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    catalog: dict[Any, str] = compiled._catalog  # type: ignore[attr-defined]
    expected: dict[Any, str] = {}
    for entry in messages(PO):
        key = entry.msgid if entry.msgctxt is None else f"{entry.msgctxt}\x04{entry.msgid}"
        if entry.msgid_plural is not None:
            expected[(key, 0)] = entry.msgstr[0]
        else:
            expected[key] = entry.msgstr[0]
    compiled_messages = {k: v for k, v in catalog.items() if k != ""}
    assert compiled_messages == expected


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext is not installed")
def test_catalog_has_every_string_of_the_source(tmp_path: Path) -> None:
    """makemessages run on a copy of the source finds no string that the catalog lacks (nor leftovers)."""
    copy = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo")
    ours = [app for app in settings.INSTALLED_APPS if (ROOT / app).is_dir()]  # every app of this project
    for name in ("crm_usage", *ours, "templates", "locale"):
        shutil.copytree(ROOT / name, copy / name, ignore=ignore)
    shutil.copy2(ROOT / "manage.py", copy / "manage.py")
    po_copy = copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    po_copy.unlink()  # start from nothing: the result is the list of strings in the source
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-location"],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=240,
        env={"PATH": os.environ.get("PATH", ""), "DJANGO_SETTINGS_MODULE": "crm_usage.settings", "HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    in_source = {e.key for e in messages(po_copy)}
    in_catalog = {e.key for e in messages(PO)}
    refresh = "refresh the catalog: see the docstring of tests/test_i18n.py"
    assert sorted(in_source - in_catalog, key=str) == [], refresh
    assert sorted(in_catalog - in_source, key=str) == [], refresh


# --- the pages ------------------------------------------------------------------------------------------


@pytest.fixture
def acme(make_workspace: Any) -> Workspace:
    workspace = make_workspace("acme", tz="Asia/Shanghai")[0]
    journeys(
        workspace,
        [
            ("alice", "2025-10-15T09:00:00+08:00", "Leads", "view", "list_view"),
            ("alice", "2025-10-20T09:05:00+08:00", "Leads", "create"),
            ("bob", "2025-10-16T11:00:00+08:00", "Contacts", "view"),
            ("bob", "2025-10-09T11:00:00+08:00", "Contacts", "view"),
        ],
    )
    return workspace


def _login(client: Client, workspace: Workspace) -> None:
    user = get_user_model().objects.create_user(username="ada", password="pw-not-used")
    Membership.objects.create(workspace=workspace, user=user, role=Membership.Role.VIEWER)
    client.force_login(user)


def _text(response: Any) -> str:
    assert response.status_code == 200
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def _switch(client: Client, language: str, next_url: str) -> Any:
    return client.post("/i18n/setlang/", {"language": language, "next": next_url})


@pytest.mark.django_db
def test_switching_language_renders_home_in_chinese_and_back(acme: Workspace) -> None:
    client = Client()
    _login(client, acme)
    home = f"/w/{acme.slug}/{QUERY}"

    english = client.get(home)
    assert english.headers["Content-Language"] == "en"
    text = _text(english)
    for label in ("Home", "Activity", "Trends", "Hub", "User analysis", "Active users", "Interactions per week"):
        assert label in text
    assert "Oct 15, 2025 – Oct 21, 2025" in text

    response = _switch(client, "zh-hans", home)
    assert response.status_code == 302
    assert response["Location"] == home  # back where the switch was made, query string included
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"

    chinese = client.get(home)
    assert chinese.headers["Content-Language"] == "zh-hans"
    assert '<html lang="zh-hans">' in chinese.content.decode()
    text = _text(chinese)
    for label in CHINESE_HOME_LABELS:
        assert label in text, label
    for english_label in ("Active users", "Interactions per week", "Attendance calendar", "Log out"):
        assert english_label not in text
    # Dates in the Chinese form, not "Oct 15, 2025" nor "十月 15, 2025".
    assert "2025年10月15日 – 2025年10月21日" in text
    assert "Oct" not in text and "十月" not in text

    _switch(client, "en", home)
    text = _text(client.get(home))
    assert "Active users" in text and "活跃用户" not in text


@pytest.mark.django_db
def test_accept_language_picks_chinese_for_a_new_visitor(acme: Workspace) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9,en;q=0.8")
    login_page = client.get("/accounts/login/")
    assert login_page.headers["Content-Language"] == "zh-hans"
    text = _text(login_page)
    assert "登录" in text and "用户名" in text and "密码" in text
    assert "Log in" not in text

    _login(client, acme)
    text = _text(client.get(f"/w/{acme.slug}/{QUERY}"))
    assert "用户分析" in text and "活跃用户" in text

    english = Client(HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    assert "Log in" in _text(english.get("/accounts/login/"))


@pytest.mark.django_db
def test_the_cookie_wins_over_accept_language(acme: Workspace) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-CN")
    _login(client, acme)
    _switch(client, "en", "/")
    assert "Active users" in _text(client.get(f"/w/{acme.slug}/{QUERY}"))


@pytest.mark.django_db
def test_switcher_form_in_header_and_on_login_page(acme: Workspace) -> None:
    client = Client()
    login_html = client.get("/accounts/login/?next=/w/acme/").content.decode()
    _login(client, acme)
    page = f"/w/{acme.slug}/activity/?as_of=2025-10-21&days=7"
    header_html = client.get(page).content.decode()
    for html, next_url in ((login_html, "/accounts/login/?next=/w/acme/"), (header_html, page)):
        form = re.search(r'<form class="lang-switcher".*?</form>', html, flags=re.S)
        assert form is not None
        markup = form.group(0)
        assert 'method="post"' in markup and 'action="/i18n/setlang/"' in markup
        assert 'name="csrfmiddlewaretoken"' in markup
        assert f'name="next" value="{next_url}"'.replace("&", "&amp;") in markup
        assert '<label class="lang-switcher__label" for="language-select">' in markup
        assert '<select name="language" id="language-select"' in markup
        options = re.findall(r'<option value="([^"]+)" lang="[^"]+"( selected)?>([^<]+)</option>', markup)
        assert [(code, name) for code, _sel, name in options] == [("en", "English"), ("zh-hans", "简体中文")]
        assert [code for code, selected, _name in options if selected] == ["en"]
        assert '<button type="submit"' in markup
        assert "onchange" not in markup  # no inline script: the CSP forbids it


@pytest.mark.django_db
def test_the_other_tabs_render_in_chinese(acme: Workspace) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-CN")
    _login(client, acme)
    expected = {
        "activity/": ("各功能交互次数", "显示在图表中"),
        "trends/": ("度量", "时间间隔", "每日事件数"),
        "hub/": ("热门度", "频率"),
        "users/": ("出勤天数", "最近活跃", "会话分钟数"),
        "users/alice/": ("每日活动", "时间段内的会话"),
    }
    for path, labels in expected.items():
        text = _text(client.get(f"/w/{acme.slug}/{path}{QUERY}"))
        for label in labels:
            assert label in text, (path, label)
        assert "2025年10月15日" in text, path


def test_date_formats_are_translated() -> None:
    """The display formats the templates use are themselves translated, so no English month order leaks."""
    from datetime import date

    from django.utils.formats import date_format

    day = date(2025, 10, 21)
    with translation.override("zh-hans"):
        assert date_format(day, translation.gettext("M j, Y")) == "2025年10月21日"
        assert date_format(day, translation.gettext("D, M j, Y")) == "2025年10月21日 周二"
        assert date_format(day, translation.gettext("F Y")) == "2025年10月"
    with translation.override("en"):
        assert date_format(day, translation.gettext("M j, Y")) == "Oct 21, 2025"
