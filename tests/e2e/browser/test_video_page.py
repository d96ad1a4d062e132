"""Issue 15 in a real Chromium: the player sets the offsets, the preview appears with its size,
library row actions, the time-range mode switch, and the layout defects (390 px library,
Recent tasks at 1366/1920 px, Tencent subscription events)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.files import File
from playwright.sync_api import Page, expect

from media_jobs.encode import probe
from media_jobs.jobs.strip import make_strip
from media_jobs.models import AnimatedImage, AnimatedImageTemplate, Task, Video
from tests.clips import make_clip
from tests.e2e.browser.conftest import PHONE

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ready_video(tmp_path: Path, media_root: Path) -> Video:
    path = make_clip(tmp_path / "harbour.mp4", width=854, height=480, seconds=6.0, fps=30, gop=30, faststart=True)
    video = Video(title="Harbour at dusk", status=Video.Status.READY, size=path.stat().st_size)
    video.apply_probe(probe(path))
    with path.open("rb") as handle:
        video.file.save("original.mp4", File(handle), save=False)
    video.save()
    assert make_strip(video.pk) == "made"  # the job queued at READY, run here
    video.refresh_from_db()
    return video


def no_sideways_overflow(page: Page, selector: str) -> None:
    overflow = page.eval_on_selector_all(selector, "els => els.map(e => e.scrollWidth - e.clientWidth)")
    assert overflow and max(overflow) <= 1, f"{selector} overflows by {overflow}"


def test_the_player_sets_the_offsets_and_the_preview_shows_with_its_size(new_page: Callable[..., Page], ready_video):
    page = new_page()
    page.goto(f"/videos/{ready_video.public_id}/processing/")
    page.wait_for_function("document.querySelector('video[data-player-video]').readyState >= 1")
    # The strip is tiles of one server-made image: one key frame a second, each seeking the player.
    tiles = page.locator("[data-thumbstrip] [data-at]")
    expect(tiles).to_have_count(6)
    assert page.locator("video").count() == 1, "no second video element decodes the original for thumbnails"
    assert page.evaluate("[...document.querySelectorAll('[data-thumbstrip] [data-at]')]"
                         ".every(t => getComputedStyle(t).backgroundImage.includes('strip.jpg'))")
    sheet_width = page.evaluate("""() => new Promise((done) => {
        const url = getComputedStyle(document.querySelector('[data-thumbstrip] [data-at]')).backgroundImage.slice(5, -2);
        const image = new Image();
        image.onload = () => done(image.naturalWidth);
        image.onerror = () => done(0);
        image.src = url;
    })""")
    assert sheet_width == 6 * 192  # six 192x108 tiles, shown at half size
    tiles.nth(3).click()
    expect(page.locator("[data-playhead]")).to_have_text("3.000")

    page.evaluate("document.querySelector('video[data-player-video]').currentTime = 1.25")
    expect(page.locator("[data-playhead]")).to_have_text("1.250")
    page.get_by_role("button", name="Set start").click()
    expect(page.get_by_label("Start offset (s)")).to_have_value("1.250")
    page.evaluate("document.querySelector('video[data-player-video]').currentTime = 5.5")
    expect(page.locator("[data-playhead]")).to_have_text("5.500")
    page.get_by_role("button", name="Set end").click()
    expect(page.get_by_label("End offset (s)")).to_have_value("5.500")
    expect(page.get_by_role("link", name="Download original")).to_be_visible()

    page.get_by_label(re.compile(r"20000 · ")).check()
    started = time.monotonic()
    page.get_by_role("button", name="Preview").click()
    image = page.locator("[data-preview-image]")
    expect(image).to_be_visible()
    took = time.monotonic() - started
    expect(page.locator("[data-preview-size]")).to_contain_text(re.compile(r"1\.25–4\.25 s: [\d.]+ (KiB|MiB|bytes)"))
    expect(page.locator("[data-preview-size]")).to_contain_text("Projected for the full render")
    assert page.evaluate("document.querySelector('[data-preview-image]').naturalWidth") > 0
    print(f"preview of 3 s at 480p shown in {took:.2f} s")
    assert not AnimatedImage.objects.exists(), "a preview must not store an output"

    # Submitting the form uses the offsets the player set.
    page.get_by_role("button", name="Start processing").click()
    image_row = AnimatedImage.objects.get()
    assert (image_row.start_time_offset, image_row.end_time_offset) == (1.25, 5.5)


def test_library_row_actions_and_the_phone_layout(new_page: Callable[..., Page], ready_video):
    page = new_page()
    page.goto("/videos/")
    row = page.locator("table.library tbody tr").first
    row.get_by_role("link", name="Processing").click()
    expect(page).to_have_url(re.compile(rf"/videos/{ready_video.public_id}/processing/$"))
    page.go_back()
    row.get_by_role("link", name="Animated Images").click()
    expect(page).to_have_url(re.compile(r"/animated-images/$"))
    page.go_back()
    row.get_by_role("link", name="Manage").click()
    expect(page).to_have_url(re.compile(rf"/videos/{ready_video.public_id}/$"))

    phone = new_page(viewport=PHONE)
    phone.goto("/videos/")
    no_sideways_overflow(phone, "section.card")
    for label in ("Duration", "Resolution", "Size", "Uploaded"):
        expect(phone.locator(f"table.library td[data-label='{label}']").first).to_be_visible()
    no_sideways_overflow(phone, "body")


@pytest.mark.parametrize("width", [1366, 1920])
def test_recent_tasks_fit_their_card(new_page: Callable[..., Page], ready_video, width):
    ready_video.title = "A very long title for a harbour walk at dusk, filmed from the pier on a windy day"
    ready_video.save(update_fields=["title"])
    for _ in range(3):
        task = Task.objects.create(video=ready_video, status=Task.Status.FINISH, result=Task.Result.FAIL)
        AnimatedImage.objects.create(task=task, video=ready_video, definition=20000, template_name="GIF",
                                     params={}, status=AnimatedImage.Status.FAIL, error_code="InvalidTimeRange")
    page = new_page(viewport={"width": width, "height": 900})
    page.goto("/")
    no_sideways_overflow(page, "section.card")
    expect(page.locator("table.recent-tasks .status.fail").first).to_have_text("Failed")
    expect(page.locator("table.recent-tasks")).not_to_contain_text("Finished")


def test_the_template_range_is_a_mode_switch(new_page: Callable[..., Page], ready_video):
    page = new_page()
    page.goto("/templates/new/")
    page.get_by_label("Name").fill("Five seconds")
    expect(page.get_by_label("End offset (s)")).to_be_visible()
    expect(page.get_by_label("Duration (s)")).to_be_hidden()
    page.get_by_label("Duration", exact=True).check()
    expect(page.get_by_label("End offset (s)")).to_be_hidden()
    page.get_by_label("Duration (s)").fill("2")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("[data-preview-size]")).to_contain_text(re.compile(r"0–2 s: "))
    page.get_by_role("button", name="Create template").click()
    expect(page).to_have_url(re.compile(r"/templates/\?type=custom$"))
    template = AnimatedImageTemplate.objects.get(name="Five seconds")
    assert (template.end, template.duration, template.trim_end) == (None, 2.0, None)


def test_a_tencent_subscription_does_not_offer_animated_image_finished(new_page: Callable[..., Page]):
    page = new_page()
    page.goto("/notifications/new/")
    # Wide enough for a real callback URL.
    assert page.get_by_label("URL", exact=True).bounding_box()["width"] >= 380
    page.get_by_label("Payload shape").select_option("TENCENT")
    expect(page.get_by_label(re.compile("Animated image finished"))).to_be_hidden()
    expect(page.get_by_label(re.compile("Task finished"))).to_be_visible()
    page.get_by_label("Payload shape").select_option("ALIBABA")
    expect(page.get_by_label(re.compile("Animated image finished"))).to_be_visible()
    expect(page.get_by_label(re.compile("^Task finished"))).to_be_hidden()
