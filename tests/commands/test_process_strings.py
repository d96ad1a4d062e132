"""An OSS process string makes a template through the console (paste, the form fills in) and the
API (`process`), with the same errors, and every template shows its process-string form."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from media_jobs.models import AnimatedImageTemplate
from tests.api.conftest import ApiClient, api, api_key, assert_error  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def test_the_api_takes_a_process_string_and_shows_it_back(api: ApiClient) -> None:
    created = api.post("/api/v1/templates", {"name": "from oss", "process": "video/animation,f_gif,w_100,h_100,inter_1000"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["format"], body["width"], body["height"], body["interval_ms"], body["resolution_adaptive"]) == \
        ("gif", 100, 100, 1000, False)
    assert body["process"] == "video/animation,f_gif,inter_1000,w_100,h_100"
    # Fields given beside the string win.
    mixed = api.post("/api/v1/templates", {"name": "mixed", "process": "video/animation,f_gif,w_100", "width": 200})
    assert mixed.json()["width"] == 200
    bad = api.post("/api/v1/templates", {"name": "bad", "process": "video/animation,f_gif,w_10"})
    error = assert_error(bad, 400, "InvalidParameter", "process")
    assert "w: must be from 32 to 4096" in error["message"]
    assert_error(api.post("/api/v1/templates", {"name": "no f", "process": "video/animation,w_100"}),
                 400, "MissingParameter", "process")


def test_the_console_fills_the_form_from_a_pasted_string(admin_client) -> None:  # noqa: ANN001
    url = reverse("console-template-create")
    page = admin_client.post(url, {"fill_from_process": "1",
                                   "process": "video/animation,ss_5000,f_webp,pw_25,ph_25,fps_25,inter_500"})
    assert page.status_code == 200
    html = page.content.decode()
    assert re.search(r'name="format"[^>]*>.*?<option value="webp" selected', html, re.S)
    assert re.search(r'name="width_percent" value="25"', html) and re.search(r'name="interval_ms" value="500"', html)
    assert re.search(r'name="start" value="5.0"', html) and re.search(r'name="playback_fps" value="25.0"', html)
    assert not AnimatedImageTemplate.objects.filter(kind="Custom").exists()  # nothing saved yet

    bad = admin_client.post(url, {"fill_from_process": "1", "process": "video/animation,f_gif,speed_2"})
    assert bad.status_code == 400
    assert re.search(r'id="error-process">speed: is not a video/animation parameter<', bad.content.decode())


def test_every_template_shows_its_process_form(admin_client, api: ApiClient) -> None:  # noqa: ANN001
    api.post("/api/v1/templates", {"name": "listed", "process": "video/animation,f_webp,pw_50,ph_50"})
    page = admin_client.get(reverse("console-templates") + "?type=custom").content.decode()
    assert "video/animation,f_webp,pw_50,ph_50" in page
