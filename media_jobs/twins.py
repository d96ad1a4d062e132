"""The GIF twin of an animated WebP: the same moment at the same size, made on demand so an
embed can offer `<picture>` with WebP first and the GIF for browsers and mail clients without
WebP."""

from __future__ import annotations

from django.db import transaction

from media_jobs.jobs import queues
from media_jobs.models import AnimatedImage, Task, Video

_LIVE = (AnimatedImage.Status.WAITING, AnimatedImage.Status.PROCESSING, AnimatedImage.Status.SUCCESS)


def gif_twin(image: AnimatedImage) -> AnimatedImage | None:
    """The GIF made (or being made) for this WebP, if any."""
    return (AnimatedImage.objects.filter(video_id=image.video_id, status__in=_LIVE, params__format="gif",
                                         params__twin_of=str(image.public_id))
            .order_by("-created_at").first())


@transaction.atomic
def request_gif_twin(image: AnimatedImage) -> AnimatedImage:
    """Queue a GIF of exactly the WebP's frames (its resolved range and its output size) unless
    one exists. Raises ValueError for anything but a finished WebP of a ready video."""
    if image.status != AnimatedImage.Status.SUCCESS or image.container != "webp":
        raise ValueError("only a finished animated WebP gets a GIF twin")
    if image.video.status != Video.Status.READY:
        raise ValueError("the video is not ready")
    existing = gif_twin(image)
    if existing is not None:
        return existing
    params = dict(image.params)
    # The WebP's result, not its template: the same frames at the same size, whatever the
    # template said about adaptive or percent sizes.
    params.update(format="gif", width=image.width, height=image.height, resolution_adaptive=False,
                  width_percent=0, height_percent=0, scale_mode="stretch", start=image.start_offset,
                  end=image.end_offset, duration=None, trim_end=None, twin_of=str(image.public_id))
    task = Task.objects.create(video=image.video, origin=Task.Origin.CONSOLE)
    twin = AnimatedImage.objects.create(
        task=task, video=image.video, template=image.template, definition=image.definition,
        template_name=f"{image.template_name} (GIF fallback)"[:64], params=params,
        start_time_offset=image.start_offset, end_time_offset=image.end_offset,
    )
    queues.enqueue_render_of(twin)
    return twin
