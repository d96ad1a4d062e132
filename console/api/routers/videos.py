"""Videos: upload (multipart) or create from a URL, list, get, rename, delete, set the cover."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from django.http import HttpRequest
from ninja import File, Form, Query, Router, Status, UploadedFile

from console.api import serialize
from console.api.common import DEFAULT_LIMIT, MAX_LIMIT, attribute, get, page
from console.api.errors import ApiError
from console.api.schemas import CoverIn, Error, Page, VideoDetailOut, VideoOut, VideoPatchIn, VideoUrlIn
from media_jobs.commands import videos as video_commands
from media_jobs.errors import ErrorCode
from media_jobs.models import AnimatedImage, Video, Workflow

router = Router(tags=["Videos"])
ERRORS = {400: Error, 401: Error, 404: Error, 409: Error, 429: Error}


def _videos():
    return Video.objects.select_related("workflow", "cover_animated")


def _video(video_id: UUID) -> Video:
    return get(_videos(), "video", public_id=video_id)


def _workflow(workflow_id: UUID | None) -> Workflow | None:
    if workflow_id is None:
        return None
    workflow = Workflow.objects.filter(public_id=workflow_id).first()
    if workflow is None:
        raise ApiError(ErrorCode.RESOURCE_NOT_FOUND, f"workflow_id: workflow {workflow_id} does not exist",
                       "workflow_id")
    return workflow


@router.post("", response={201: VideoDetailOut, 413: Error, **ERRORS}, summary="Upload a video")
def upload_video(request: HttpRequest, file: File[UploadedFile],
                 title: str | None = Form(None, description="Defaults to the file name."),
                 workflow_id: UUID | None = Form(None, description="Run this workflow once the video is ready.")):
    """Multipart upload, streamed to disk. The file is probed before anything is stored, so a
    file that is not a usable video is a 400 (InvalidVideoFormat, NoVideoStream, EmptyFile)."""
    if title is not None:
        video_commands.clean_title(title, required=False)  # a bad title is refused before the probe
    workflow = _workflow(workflow_id)
    info = video_commands.check_upload(file)
    video = video_commands.create_video(file, title, workflow, info=info)
    attribute(request, "video", video.public_id)
    return Status(201, serialize.video_detail(request, _video(video.public_id)))


@router.post("/from-url", response={202: VideoDetailOut, **ERRORS}, summary="Create a video from a URL")
def create_from_url(request: HttpRequest, payload: VideoUrlIn):
    """The server downloads the URL in the background (public addresses only; redirects are
    re-checked). The answer is the PROCESSING video; poll it until READY or FAILED
    (DownloadFailed, InvalidVideoFormat, ...)."""
    workflow = _workflow(payload.workflow_id)
    video = video_commands.import_from_url(payload.url, payload.title, workflow)
    attribute(request, "video", video.public_id)
    return Status(202, serialize.video_detail(request, _video(video.public_id)))


@router.get("", response={200: Page[VideoOut], **ERRORS}, summary="List videos")
def list_videos(request: HttpRequest,
                search: str | None = Query(None, description="Part of the title."),
                status: Literal["PROCESSING", "READY", "FAILED"] | None = Query(None),
                workflow_id: UUID | None = Query(None),
                created_after: datetime | None = Query(None), created_before: datetime | None = Query(None),
                sort: Literal["newest", "oldest", "title", "-title", "duration", "-duration", "size", "-size"] = Query("newest"),
                offset: int = Query(0, ge=0, le=10**9), limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)):
    videos = _videos().library(search or "", status or "", sort)
    if workflow_id is not None:
        videos = videos.filter(workflow__public_id=workflow_id)
    if created_after is not None:
        videos = videos.filter(created_at__gte=created_after)
    if created_before is not None:
        videos = videos.filter(created_at__lt=created_before)
    return page(videos, offset, limit, lambda v: serialize.video(request, v))


@router.get("/{uuid:video_id}", response={200: VideoDetailOut, **ERRORS}, summary="Get a video")
def get_video(request: HttpRequest, video_id: UUID):
    """With `metadata` in Tencent's MetaData names, the cover and every animated image."""
    return serialize.video_detail(request, _video(video_id))


@router.patch("/{uuid:video_id}", response={200: VideoDetailOut, **ERRORS}, summary="Rename a video")
def rename_video(request: HttpRequest, video_id: UUID, payload: VideoPatchIn):
    video = _video(video_id)
    video_commands.rename_video(video, payload.title)
    attribute(request, "video", video.public_id)
    return serialize.video_detail(request, video)


@router.delete("/{uuid:video_id}", response={204: None, **ERRORS}, summary="Delete a video")
def delete_video(request: HttpRequest, video_id: UUID):
    """The original, its cover, its tasks and animated images go too."""
    video = _video(video_id)
    video_commands.delete_video(video)
    attribute(request, "video", video_id)
    return Status(204, None)


@router.put("/{uuid:video_id}/cover", response={200: VideoDetailOut, **ERRORS}, summary="Set the cover")
def set_cover(request: HttpRequest, video_id: UUID, payload: CoverIn):
    """An animated image of this video in SUCCESS becomes the cover; null restores the static one."""
    video = _video(video_id)
    image = None
    if payload.animated_image_id is not None:
        image = AnimatedImage.objects.filter(public_id=payload.animated_image_id, video=video).first()
        if image is None:
            raise ApiError(ErrorCode.RESOURCE_NOT_FOUND,
                           f"animated_image_id: video {video_id} has no animated image {payload.animated_image_id}",
                           "animated_image_id")
    video_commands.set_cover(video, image)
    attribute(request, "video", video.public_id)
    return serialize.video_detail(request, _video(video_id))
