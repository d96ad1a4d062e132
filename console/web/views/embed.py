"""Embedding an animated image elsewhere: the GIF twin that the `<picture>` snippet falls back to."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST
from django.utils.translation import gettext as _

from media_jobs.models import AnimatedImage
from media_jobs.twins import request_gif_twin


@login_required
@require_POST
def image_gif_twin(request: HttpRequest, public_id: str) -> HttpResponse:
    image = get_object_or_404(AnimatedImage.objects.select_related("video", "task"), public_id=public_id)
    try:
        twin = request_gif_twin(image)
    except ValueError as exc:
        messages.error(request, _("No GIF fallback: %(why)s.") % {"why": exc})
    else:
        if twin.status == AnimatedImage.Status.SUCCESS:
            messages.info(request, _("This WebP already has its GIF fallback."))
        else:
            messages.success(request, _("Rendering the GIF fallback; the embed snippet offers <picture> once it is done."))
    return redirect("console-video-images", public_id=image.video.public_id)
