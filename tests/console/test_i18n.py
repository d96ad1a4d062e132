"""The console in Chinese and Korean: no template holds an untranslated literal, the catalogues
are complete and match the sources, and the language follows the user, the cookie and the
browser (the API's messages too)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.template.base import Lexer, TokenType
from django.test import Client
from django.urls import reverse

from tests.api.conftest import api, api_key  # noqa: F401 - fixtures

ROOT = Path(settings.BASE_DIR)
LANGUAGES = ("zh_Hans", "zh_Hant", "ko", "en")
# Words a page may show in any language: the brand, formats, protocols, units and vendor names.
ALLOWED = {"loopdeck", "gif", "webp", "api", "url", "utc", "http", "https", "json", "html", "oss", "sdk", "fps",
           "px", "kb", "mib", "ms", "id", "rq", "tencent", "alibaba", "vod", "openapi", "kbit", "bit", "hz", "get",
           "post"}
ATTRIBUTES = re.compile(r'\b(?:title|alt|placeholder|aria-label)="([^"\x00]*)"')


def _literals(path: Path) -> list[str]:
    """English words in `path` outside {% translate %} / {% blocktranslate %} and template comments:
    the page's text and its title/alt/placeholder/aria-label values, tags and template code aside."""
    parts: list[str] = []
    skipping = None
    for token in Lexer(path.read_text()).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0]
            if name in ("blocktranslate", "blocktrans", "comment"):
                skipping = "end" + name
            elif name == skipping:
                skipping = None
        parts.append(token.contents if token.token_type == TokenType.TEXT and not skipping else "\x00")
    page = re.sub(r"<!--.*?-->", " ", "".join(parts), flags=re.S)
    texts = ATTRIBUTES.findall(page)
    texts.append(re.sub(r"<[^>]*>", " ", page))
    found: list[str] = []
    for chunk in texts:
        chunk = re.sub(r"&[a-z]+;", " ", chunk)
        found += [w for w in re.findall(r"[A-Za-z][A-Za-z'’-]+", chunk) if w.lower() not in ALLOWED]
    return found


def test_no_template_holds_an_untranslated_literal() -> None:
    offenders = {str(p.relative_to(ROOT)): words for p in sorted((ROOT / "templates").rglob("*.html"))
                 if (words := _literals(p))}
    assert offenders == {}


@pytest.mark.skipif(not shutil.which("xgettext"), reason="makemessages needs GNU gettext (CI installs it)")
def test_the_catalogues_are_complete_and_match_the_sources(tmp_path: Path) -> None:
    """makemessages run afresh finds exactly the messages the committed catalogues hold, and every
    one of them is translated and not fuzzy, in every language."""
    copy = tmp_path / "project"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".venv", "data", ".git", "__pycache__", "*.mo",
                                                               "node_modules"))
    common = ["--ignore=.venv", "--ignore=data", "--ignore=tests", "--ignore=bench", "--ignore=deploy", "--no-obsolete"]
    for domain in ("django", "djangojs"):
        subprocess.run([sys.executable, "manage.py", "makemessages", "-d", domain, *[f"-l{lang}" for lang in LANGUAGES],
                        *common], cwd=copy, check=True, capture_output=True, env={**_env(), "LOOPDECK_DATA_DIR": str(tmp_path / "data")})
        for lang in LANGUAGES:
            committed = polib.pofile(str(ROOT / "locale" / lang / "LC_MESSAGES" / f"{domain}.po"))
            fresh = polib.pofile(str(copy / "locale" / lang / "LC_MESSAGES" / f"{domain}.po"))
            wanted = {e.msgid for e in fresh if not e.obsolete}
            held = {e.msgid for e in committed if not e.obsolete}
            assert wanted - held == set(), f"{lang}/{domain}: messages missing from the catalogue"
            assert held - wanted == set(), f"{lang}/{domain}: stale messages in the catalogue"
            assert [e.msgid for e in committed.untranslated_entries()] == [], f"{lang}/{domain}: untranslated"
            assert [e.msgid for e in committed.fuzzy_entries()] == [], f"{lang}/{domain}: fuzzy"


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}


@pytest.mark.django_db
def test_the_browser_language_then_the_users_choice(client, admin_client, django_user_model) -> None:  # noqa: ANN001
    page = client.get(reverse("console-login"), HTTP_ACCEPT_LANGUAGE="ko-KR,ko;q=0.9").content.decode()
    assert '<html lang="ko">' in page and "로그인" in page
    page = client.get(reverse("console-login"), HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    assert '<html lang="zh-hans">' in page and "登录" in page
    # A choice in the header is kept for the user: another browser that asks for English gets it
    # once the user signs in there.
    admin_client.post(reverse("console-language"), {"language": "zh-hant", "next": "/"})
    assert "媒體庫" in admin_client.get(reverse("console-library")).content.decode()
    other_browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert "Media library" not in other_browser.get(reverse("console-login")).content.decode()  # not signed in
    other_browser.post(reverse("console-login"), {"username": "operator", "password": "correct horse battery"})
    page = other_browser.get(reverse("console-library")).content.decode()
    assert "媒體庫" in page and "Media library" not in page


@pytest.mark.django_db
def test_a_form_error_is_translated_beside_its_field(admin_client) -> None:  # noqa: ANN001
    admin_client.post(reverse("console-language"), {"language": "ko", "next": "/"})
    page = admin_client.post(reverse("console-template-create"), {"name": "", "format": "gif"}).content.decode()
    assert re.search(r'id="error-name">[^<]*필수[^<]*<', page), page[:2000]
    # The encode core's own range check, translated where the form shows it.
    page = admin_client.post(reverse("console-template-create"), {"name": "wide", "format": "gif",
                                                                     "width": "5000"}).content.decode()
    assert re.search(r'id="error-width">0이거나 32에서 4096 사이여야 합니다\.<', page), page[:3000]


@pytest.mark.django_db
def test_the_api_answers_messages_in_the_accept_language(api) -> None:  # noqa: ANN001
    response = api.post("/api/v1/templates", {"name": ""}, headers={"Accept-Language": "zh-CN"})
    body = response.json()
    assert body["code"] == "MissingParameter"  # codes stay English
    assert re.search(r"[\u4e00-\u9fff]", body["message"]), body
