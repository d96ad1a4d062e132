"""The console in Simplified Chinese and Korean, in a real Chromium whose language is set like a
user's browser: the main flow shows no English words outside a small allow-list, a form error
appears translated beside its field, and the header's switcher changes the language."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.files import File
from playwright.sync_api import Browser, Page, expect

from media_jobs.encode import probe
from media_jobs.models import Video
from tests.clips import make_clip
from tests.e2e.browser.conftest import ACTION_TIMEOUT_MS, DESKTOP, PASSWORD, USERNAME

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The brand, formats, units, protocols, vendor names, codec words and the switcher's own
# language names: the same in every language.
ALLOWED = {"loopdeck", "gif", "webp", "api", "url", "utc", "http", "https", "json", "html", "oss", "sdk", "fps", "px",
           "kb", "mib", "ms", "id", "rq", "tencent", "alibaba", "vod", "kbit", "bit", "hz", "english", "yuv", "aac",
           "mp", "avc", "mpeg", "quicktime", "bayer", "floyd", "steinberg", "sierra", "bt",
           "operator", "kib", "mib", "gib", "sierra-",
           # Parameter names users type or know from the vendors: Tencent's offsets, the OSS process
           # string's keys and the size budget's knobs.
           "starttimeoffset", "endtimeoffset", "video", "animation", "ss", "inter", "num", "pw", "ph", "scaletype",
           "quality", "colors", "size"}  # operator: the signed-in user's name
PAGES = ["/", "/videos/", "/videos/upload/", "/videos/{video}/", "/videos/{video}/processing/",
         "/videos/{video}/animated-images/", "/templates/?type=preset", "/templates/new/", "/presets/", "/tasks/",
         "/workflows/", "/workflows/new/"]


@pytest.fixture
def video(tmp_path: Path, media_root: Path) -> Video:
    path = make_clip(tmp_path / "harbour.mp4", width=640, height=360, seconds=3.0, fps=30, faststart=True)
    video = Video(title="港口黄昏", status=Video.Status.READY, size=path.stat().st_size)
    video.apply_probe(probe(path))
    with path.open("rb") as handle:
        video.file.save("original.mp4", File(handle), save=False)
    video.save()
    return video


def english_words(page: Page) -> list[str]:
    """Words in Latin letters on the page, ids and code aside."""
    text = page.evaluate("""() => {
        const copy = document.body.cloneNode(true);
        copy.querySelectorAll('.mono, code, pre, script, style, [hidden]').forEach(e => e.remove());
        return copy.innerText + ' ' + [...copy.querySelectorAll('[title],[alt],[placeholder],[aria-label]')]
          .map(e => [e.title, e.alt, e.placeholder, e.getAttribute('aria-label')].join(' ')).join(' ');
    }""")
    return sorted({w for w in re.findall(r"[A-Za-z][A-Za-z'’-]+", text) if w.lower() not in ALLOWED})


def signed_in_page(browser: Browser, live_server, locale: str, words: dict[str, str]) -> Page:  # noqa: ANN001
    context = browser.new_context(viewport=DESKTOP, base_url=live_server.url, locale=locale)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    page = context.new_page()
    page.goto("/login/")
    page.get_by_label(words["username"]).fill(USERNAME)
    page.get_by_label(words["password"]).fill(PASSWORD)
    page.get_by_role("button", name=words["sign_in"]).click()
    expect(page.get_by_role("heading", name=words["overview"])).to_be_visible()
    return page


@pytest.mark.parametrize("locale, words", [
    ("zh-CN", {"username": "用户名", "password": "密码", "sign_in": "登录", "overview": "概览", "required": "必填",
               "library": "媒资库"}),
    ("ko-KR", {"username": "사용자 이름", "password": "비밀번호", "sign_in": "로그인", "overview": "개요", "required": "필수",
               "library": "미디어 라이브러리"}),
], ids=["zh-hans", "ko"])
def test_the_main_flow_speaks_the_browsers_language(browser: Browser, live_server, operator, video: Video,
                                                    locale: str, words: dict[str, str]) -> None:  # noqa: ANN001
    page = signed_in_page(browser, live_server, locale, words)
    leftovers = {}
    for path in PAGES:
        page.goto(path.format(video=video.public_id))
        found = english_words(page)
        if found:
            leftovers[path] = found
    assert leftovers == {}, leftovers

    # A form error, translated, beside its field.
    page.goto("/templates/new/")
    page.locator("#id_name").fill("")
    page.locator("form.template-form button[type=submit]").first.click()
    error = page.locator("#error-name")
    expect(error).to_be_visible()
    assert words["required"] in error.inner_text()
    assert page.locator(".field.has-error #id_name").count() == 1

    # The switcher in the header: English, remembered for the next page. (It submits on change
    # once console.js has run; the error above can show before the deferred scripts have.)
    page.wait_for_load_state("load")
    page.select_option("#language-choice", "en")
    expect(page.get_by_role("link", name="Media library")).to_be_visible()
    page.goto("/tasks/")
    expect(page.get_by_role("heading", name="Tasks")).to_be_visible()
