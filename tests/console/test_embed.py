"""Embed snippets work on another site: absolute URLs, and a GIF twin made on demand for the
`<picture>` fallback (issue 15)."""

from __future__ import annotations

import re

import pytest
from django.test import override_settings
from django.urls import reverse

from media_jobs.models import AnimatedImage, Video
from media_jobs.twins import gif_twin
from tests.console.test_pages import finished_image, video  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


@override_settings(PUBLIC_BASE_URL="https://gifs.example.com")
def test_the_snippet_uses_absolute_urls_and_offers_the_gif_twin(admin_client, video, redis_conn):  # noqa: F811
    webp = finished_image(video, "webp")
    page = admin_client.get(reverse("console-video-images", args=[video.public_id])).content.decode()
    assert '<img src="https://gifs.example.com/media/videos/' in page
    snippet = re.search(r"<textarea[^>]*data-embed>(.*?)</textarea>", page, re.S).group(1)
    assert 'src="/media/' not in snippet
    assert reverse("console-image-gif-twin", args=[webp.public_id]) in page

    admin_client.post(reverse("console-image-gif-twin", args=[webp.public_id]))
    twin = gif_twin(webp)
    assert twin is not None and twin.status == AnimatedImage.Status.WAITING
    spec = twin.spec()
    assert (spec.format, spec.width, spec.height, spec.start, spec.end) == ("gif", 320, 180, 1.0, 3.0)
    # Asking twice does not make a second one.
    admin_client.post(reverse("console-image-gif-twin", args=[webp.public_id]))
    assert AnimatedImage.objects.filter(params__format="gif").count() == 1

    # Once the twin is done, the snippet is a <picture> with both, absolute.
    AnimatedImage.objects.filter(pk=twin.pk).update(
        status=AnimatedImage.Status.SUCCESS, container="gif", width=320, height=180, start_offset=1.0,
        end_offset=3.0, file=f"videos/{video.public_id}/animated/{twin.public_id}.gif")
    page = admin_client.get(reverse("console-video-images", args=[video.public_id])).content.decode()
    assert "<picture>\n  <source srcset=\"https://gifs.example.com/media/" in page and f"https://gifs.example.com/media/videos/{video.public_id}/animated/{twin.public_id}.gif" in page
    assert Video.objects.count() == 1
