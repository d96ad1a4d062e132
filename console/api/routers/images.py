"""Animated images: list a video's (Alibaba `ListDynamicImage`), get, retry, delete."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from django.http import HttpRequest
from ninja import Query, Router, Status

from console.api import serialize
from console.api.common import MAX_LIMIT, attribute, get, page
from console.api.schemas import AnimatedImageOut, Error, Page
from media_jobs.commands import tasks as task_commands
from media_jobs.models import AnimatedImage, Video

router = Router(tags=["Animated images"])
ERRORS = {400: Error, 401: Error, 404: Error, 409: Error, 429: Error}


def _images():
    return AnimatedImage.objects.select_related("task", "video")


def _image(image_id: UUID) -> AnimatedImage:
    return get(_images(), "animated image", public_id=image_id)


@router.get("/videos/{uuid:video_id}/animated-images", response={200: Page[AnimatedImageOut], **ERRORS},
            summary="List a video's animated images")
def list_images(request: HttpRequest, video_id: UUID,
                status: Literal["WAITING", "PROCESSING", "SUCCESS", "FAIL"] | None = Query(None),
                offset: int = Query(0, ge=0, le=10**9), limit: int = Query(MAX_LIMIT, ge=1, le=MAX_LIMIT)):
    """Oldest first, every task's outputs (Alibaba `ListDynamicImage`)."""
    video = get(Video.objects.all(), "video", public_id=video_id)
    images = _images().filter(video=video)
    if status is not None:
        images = images.filter(status=status)
    images = images.order_by("created_at", "position", "id")
    return page(images, offset, limit, lambda i: serialize.animated_image(request, i, video.cover_animated_id))


@router.get("/animated-images/{uuid:image_id}", response={200: AnimatedImageOut, **ERRORS},
            summary="Get an animated image")
def get_image(request: HttpRequest, image_id: UUID):
    return serialize.animated_image(request, _image(image_id))


@router.post("/animated-images/{uuid:image_id}/retry", response={200: AnimatedImageOut, **ERRORS},
             summary="Retry a failed animated image")
def retry_image(request: HttpRequest, image_id: UUID):
    """Only a FAIL image of a task that was not aborted (409 otherwise)."""
    image = _image(image_id)
    task_commands.retry_image(image)
    attribute(request, "animated_image", image.public_id)
    return serialize.animated_image(request, _image(image_id))


@router.delete("/animated-images/{uuid:image_id}", response={204: None, **ERRORS}, summary="Delete an animated image")
def delete_image(request: HttpRequest, image_id: UUID):
    """The file goes too; a video whose cover it was goes back to its static cover. 409 while it
    is WAITING or PROCESSING (abort the task, or wait until it is done)."""
    image = _image(image_id)
    task_commands.delete_animated_image(image)
    attribute(request, "animated_image", image_id)
    return Status(204, None)
