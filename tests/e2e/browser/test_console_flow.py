"""The operator's path through the console in a real headless Chromium, against the live server and
a real worker process: sign in, a template (with a validation error first), a workflow, an upload
processed during upload, live progress on the Processing tab, the animated image playing, set as
cover, and the cover in the library. Screenshots of the main pages go to test-artifacts/."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from PIL import Image
from playwright.sync_api import Locator, Page, expect

from media_jobs.models import (
    AnimatedImage,
    AnimatedImageTemplate,
    Task,
    Video,
    Workflow,
)
from tests.clips import make_clip
from tests.e2e.browser.conftest import PHONE

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RENDER_TIMEOUT_MS = 180_000

# Samples the first task's status and progress bar every 50 ms, so the test can tell what the page
# showed over time; a reload would wipe both the sampler and the marker.
WATCH_TASK = """() => {
  window.__sameDocument = "yes";
  window.__seen = [];
  setInterval(() => {
    const status = document.querySelector("[data-role=task-status]");
    const bar = document.querySelector("[data-output] progress");
    const now = (status ? status.className.replace("status ", "") : "none") + "|" + (bar ? bar.value : "");
    if (window.__seen[window.__seen.length - 1] !== now) window.__seen.push(now);
  }, 50);
}"""

@pytest.fixture(scope="module")
def upload_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3 s 320x240 clip whose yellow bar moves across the picture."""
    return make_clip(tmp_path_factory.mktemp("browser-clips") / "harbour walk.mp4", seconds=3.0, fps=30)


def distinct_pictures(image: Locator, shots: int = 8, every_ms: int = 200) -> int:
    """How many different pictures an <img> shows on screen over a while: a playing animation shows
    several, a still or a stuck one shows one. (A canvas would only ever get the first frame.)"""
    seen = set()
    for _ in range(shots):
        seen.add(image.screenshot(animations="allow"))
        image.page.wait_for_timeout(every_ms)
    return len(seen)


def fetch_frames(page: Page, url: str) -> tuple[str, int, tuple[int, int]]:
    """Download a URL with the browser's session and read it as an image: format, frames, size."""
    response = page.request.get(url)
    assert response.ok, f"GET {url} answered {response.status}"
    with Image.open(io.BytesIO(response.body())) as im:
        return im.format, getattr(im, "n_frames", 1), im.size


def test_template_workflow_upload_live_progress_playing_image_and_cover(
    new_page: Callable[..., Page], screenshot: Callable[[Page, str], Path], upload_clip: Path, start_process
):
    page = new_page()
    page.goto("/")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()

    # A custom template: an out-of-range frame rate is refused beside its field, values kept.
    page.goto("/templates/new/")
    page.get_by_label("Name").fill("E2E teaser")
    page.get_by_label("Format").select_option("gif")
    page.get_by_label("Width", exact=True).fill("160")
    page.get_by_label("Frame rate (fps)").fill("99")
    page.get_by_role("button", name="Create template").click()
    fps_error = page.locator("#error-fps")
    expect(fps_error).to_be_visible()
    expect(fps_error).to_contain_text("60")
    expect(page.locator(".field.has-error")).to_have_count(1)
    assert page.locator(".field.has-error #id_fps").count() == 1, "the error is not beside the fps field"
    expect(page.get_by_label("Frame rate (fps)")).to_have_value("99")
    expect(page.get_by_label("Name")).to_have_value("E2E teaser")
    expect(page.get_by_label("Width", exact=True)).to_have_value("160")
    screenshot(page, "template-form-error")
    assert not AnimatedImageTemplate.objects.filter(name="E2E teaser").exists()

    page.get_by_label("Frame rate (fps)").fill("10")
    page.get_by_role("button", name="Create template").click()
    expect(page).to_have_url(re.compile(r"/templates/\?type=custom$"))
    template = AnimatedImageTemplate.objects.get(name="E2E teaser")
    assert (template.kind, template.format, template.width, template.fps) == ("Custom", "gif", 160, 10)
    expect(page.get_by_role("cell", name="E2E teaser")).to_be_visible()

    # A workflow with that template and a time range; "Add step" clones the row.
    page.goto("/workflows/new/")
    page.get_by_label("Name").fill("E2E on upload")
    rows = page.locator("[data-steps] [data-step]")
    expect(rows).to_have_count(1)
    page.get_by_role("button", name="Add step").click()
    expect(rows).to_have_count(2)
    expect(rows.nth(1).locator("[data-step-number]")).to_have_text("2")
    rows.nth(0).locator("select[name=step_template]").select_option(str(template.definition))
    rows.nth(0).locator("input[name=step_start]").fill("0.5")
    rows.nth(0).locator("input[name=step_end]").fill("2.5")
    page.get_by_role("button", name="Save workflow").click()
    expect(page).to_have_url(re.compile(r"/workflows/$"))
    expect(page.get_by_text("E2E on upload").first).to_be_visible()
    workflow = Workflow.objects.get(name="E2E on upload")
    steps = list(workflow.steps.order_by("position"))
    assert [(s.template_id, s.start_time_offset, s.end_time_offset) for s in steps] == [(template.pk, 0.5, 2.5)]
    screenshot(page, "workflows")

    # Upload with "Process video during upload": the per-file bar reaches "Uploaded".
    page.goto("/videos/upload/")
    page.get_by_label("Video files").set_input_files(str(upload_clip))
    page.get_by_label("Process video during upload").select_option(label="E2E on upload")
    page.get_by_role("button", name="Upload").click()
    item = page.locator("#upload-list .upload-item")
    expect(item).to_have_count(1)
    expect(item).to_have_class(re.compile(r"\bdone\b"))
    expect(item.locator(".upload-name")).to_have_text("harbour walk.mp4")
    expect(item.locator("progress")).to_have_js_property("value", 100)
    expect(item).to_contain_text("Uploaded")
    screenshot(page, "upload")
    video = Video.objects.get()
    assert (video.title, video.workflow_id, video.width, video.height) == ("harbour walk", workflow.pk, 320, 240)

    item.get_by_role("link").click()
    expect(page.get_by_role("heading", name="harbour walk")).to_be_visible()
    expect(page.get_by_text("harbour walk.mp4")).to_be_visible()

    # Processing tab: no worker yet, so the task waits; the worker starts while the page is open
    # and the bar and status must move to the end without a reload.
    page.get_by_role("link", name="Processing").click()
    task_status = page.locator("[data-role=task-status]")
    expect(task_status).to_have_count(1)
    expect(task_status).to_have_class(re.compile(r"\bwaiting\b"))
    page.evaluate(WATCH_TASK)
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url) if frame == page.main_frame else None)
    start_process("worker")
    expect(task_status).to_have_class(re.compile(r"\bfinish\b"), timeout=RENDER_TIMEOUT_MS)
    expect(page.locator("[data-output] progress")).to_have_js_property("value", 100)
    expect(page.locator("[data-role=output-status]")).to_have_text("Success")
    assert page.evaluate("window.__sameDocument") == "yes" and navigations == [], "the page reloaded"
    seen = page.evaluate("window.__seen")
    assert seen[0].startswith("waiting|") and seen[-1] == "finish|100", seen
    screenshot(page, "video-processing")
    task = Task.objects.get(video=video)
    assert task.status == Task.Status.FINISH

    page.get_by_role("link", name="Basic info").click()
    expect(page.get_by_text("harbour walk.mp4")).to_be_visible()
    bitrate = video.media_info.bitrate
    expect(page.locator("dt:text-is('Bitrate') + dd")).to_have_text(f"{round(bitrate / 1000)} kbit/s ({bitrate} bit/s)")
    screenshot(page, "video-info")

    # The still cover made while preparing is in the library until an animated one is chosen.
    page.goto("/videos/")
    thumb = page.locator("table.library tbody tr").filter(has_text="harbour walk").locator("img.thumb")
    expect(thumb).to_have_count(1)
    image = AnimatedImage.objects.get(task=task)
    assert thumb.get_attribute("src") != image.file.url

    # Animated Images tab: the image is displayed and playing, and its file really is animated.
    page.goto(f"/videos/{video.public_id}/animated-images/")
    card = page.locator(f"[data-image='{image.public_id}']")
    expect(card).to_contain_text("160×120")
    expect(card).to_contain_text("20 frames")
    preview = card.locator("img.preview")
    expect(preview).to_have_attribute("src", image.file.url)
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=preview.element_handle())
    assert preview.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [160, 120]
    distinct = distinct_pictures(preview)
    assert distinct >= 3, f"the preview showed {distinct} distinct picture(s) in 1.6 s: it does not play"
    assert fetch_frames(page, image.file.url) == ("GIF", 20, (160, 120))

    card.get_by_role("button", name="Set as cover").click()
    expect(page.get_by_text("Cover set.")).to_be_visible()
    expect(card.locator(".badge")).to_have_text("Current cover")
    expect(card.get_by_role("button", name="Set as cover")).to_have_count(0)
    screenshot(page, "video-animated-images")

    page.goto("/videos/")
    expect(thumb).to_have_attribute("src", image.file.url)
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())
    assert distinct_pictures(thumb) >= 3, "the library's cover thumbnail does not play"
    assert fetch_frames(page, thumb.get_attribute("src"))[1] > 1
    screenshot(page, "library")

    page.goto("/tasks/")
    expect(page.get_by_role("cell", name="harbour walk")).to_be_visible()
    screenshot(page, "tasks")
    page.locator(f"a[href='/tasks/{task.task_id}/']").first.click()
    expect(page).to_have_url(re.compile(rf"/tasks/{task.task_id}/$"))
    expect(page.get_by_text("E2E teaser").first).to_be_visible()
    screenshot(page, "task-detail")

    page.goto("/")
    expect(page.get_by_role("link", name=re.compile(r"^1\s*videos?$"))).to_be_visible()
    screenshot(page, "overview")

    page.goto("/presets/")
    expect(page.get_by_role("heading", name=re.compile("Preset"))).to_be_visible()
    screenshot(page, "preset-catalog")

    phone = new_page(viewport=PHONE)
    phone.goto("/videos/")
    expect(phone.get_by_role("link", name="harbour walk")).to_be_visible()
    screenshot(phone, "phone-library")
    phone.goto(f"/videos/{video.public_id}/")
    expect(phone.get_by_role("heading", name="harbour walk")).to_be_visible()
    screenshot(phone, "phone-video-info")
    phone.goto(f"/videos/{video.public_id}/animated-images/")
    expect(phone.locator("img.preview")).to_be_visible()
    screenshot(phone, "phone-video-animated-images")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], \
        "the video page scrolls sideways on a phone"


def test_a_text_file_named_mp4_gets_its_error_beside_its_entry(
    new_page: Callable[..., Page], screenshot: Callable[[Page, str], Path], upload_clip: Path, tmp_path: Path
):
    notes = tmp_path / "notes.mp4"
    notes.write_text("Shopping list: milk, eggs. Not a video at all.\n")
    page = new_page()
    page.goto("/videos/upload/")
    page.get_by_label("Video files").set_input_files([str(upload_clip), str(notes)])
    page.get_by_role("button", name="Upload").click()

    entries = page.locator("#upload-list .upload-item")
    expect(entries).to_have_count(2)
    good, bad = entries.nth(0), entries.nth(1)
    expect(good).to_have_class(re.compile(r"\bdone\b"))
    expect(good).to_contain_text("Uploaded")
    expect(bad).to_have_class(re.compile(r"\bfailed\b"))
    expect(bad.locator(".upload-name")).to_have_text("notes.mp4")
    expect(bad.locator(".upload-note.error")).to_contain_text("InvalidVideoFormat")
    expect(good.locator(".error")).to_have_count(0)
    screenshot(page, "upload-bad-file")
    assert list(Video.objects.values_list("original_filename", flat=True)) == ["harbour walk.mp4"]
    assert not list(Path(settings.MEDIA_ROOT).rglob("notes*"))
