"""Videos in the media library."""

from __future__ import annotations

import uuid
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from media_jobs.encode import MediaInfo

from .events import Event, announce

if TYPE_CHECKING:
    from .tasks import AnimatedImage

# Stored originals keep only a known media extension: the name on disk holds no uploader text,
# and never ends in .html or .svg whatever the file contains.
MEDIA_EXTENSIONS = frozenset({
    ".mp4", ".m4v", ".mov", ".qt", ".mkv", ".webm", ".avi", ".flv", ".ts", ".mts", ".m2ts", ".mpg",
    ".mpeg", ".vob", ".wmv", ".asf", ".3gp", ".3g2", ".ogv", ".mxf", ".gif", ".m4a", ".mp3", ".aac",
    ".wav", ".y4m",
})
# FFmpeg names demuxers by the formats they read; operators know the family name.
CONTAINER_LABELS = {
    "mov,mp4,m4a,3gp,3g2,mj2": "MP4 / QuickTime", "matroska,webm": "Matroska / WebM", "avi": "AVI",
    "flv": "FLV", "mpegts": "MPEG-TS", "gif": "GIF", "mpeg": "MPEG-PS", "asf": "ASF / WMV",
}


def safe_extension(filename: str) -> str:
    """The file's extension if it is a known media one, else '' (we never trust the name)."""
    ext = PurePath(filename.replace("\\", "/")).suffix.lower()
    return ext if ext in MEDIA_EXTENSIONS else ""


def video_upload_to(video: "Video", filename: str) -> str:
    # Stored under a generated name: the uploader's name is kept only as the title.
    return f"videos/{video.public_id}/original{safe_extension(filename)}"


def cover_upload_to(video: "Video", filename: str) -> str:
    return f"videos/{video.public_id}/cover.jpg"


# What the player's jobs make lives beside the original under fixed names (no file column).
def proxy_name(video: "Video") -> str:
    """The browser-playable copy (media_jobs.jobs.proxy)."""
    return f"videos/{video.public_id}/proxy.mp4"


def strip_name(video: "Video") -> str:
    """The strip of thumbnails (media_jobs.jobs.strip); the name it was stored under is `Video.strip`'s."""
    return f"videos/{video.public_id}/strip.jpg"


class VideoQuerySet(models.QuerySet):
    # The media library's sort options (console and API), newest first by default.
    SORTS = {
        "newest": "-created_at", "oldest": "created_at", "title": "title", "-title": "-title",
        "duration": "duration", "-duration": "-duration", "size": "size", "-size": "-size",
    }

    def library(self, search: str = "", status: str = "", sort: str = "newest") -> "VideoQuerySet":
        """The library as the console and the API list it: title search, status filter, sort."""
        videos = self
        if search and search.strip():
            videos = videos.filter(title__icontains=search.strip())
        if status in Video.Status.values:
            videos = videos.filter(status=status)
        # -id breaks ties so pages never repeat or skip a row.
        return videos.order_by(self.SORTS.get(sort, "-created_at"), "-id")


class Video(models.Model):
    """An uploaded original and what we know about it.

    States: PROCESSING (probing and extracting the cover) → READY, or → FAILED with an error
    code when the file cannot be used. `cover` is the animated image chosen as cover if there
    is one, otherwise the static cover extracted at probe time.
    """

    class Status(models.TextChoices):
        PROCESSING = "PROCESSING", _("Processing")
        READY = "READY", _("Ready")
        FAILED = "FAILED", _("Failed")

    public_id = models.UUIDField(unique=True, editable=False, default=uuid.uuid4)
    title = models.CharField(max_length=255)
    original_filename = models.CharField(max_length=255, blank=True)
    file = models.FileField(upload_to=video_upload_to, max_length=255)
    size = models.BigIntegerField(default=0)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PROCESSING)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    workflow = models.ForeignKey(
        "media_jobs.Workflow", on_delete=models.SET_NULL, null=True, blank=True, related_name="videos",
        help_text="The workflow chosen at upload time.",
    )

    # The probe's full answer, plus the columns the library sorts and filters on.
    metadata = models.JSONField(default=dict, blank=True)
    container = models.CharField(max_length=64, blank=True)
    duration = models.FloatField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    rotate = models.SmallIntegerField(default=0)
    bitrate = models.BigIntegerField(null=True, blank=True)

    cover_image = models.FileField(upload_to=cover_upload_to, max_length=255, blank=True)
    cover_animated = models.ForeignKey(
        "media_jobs.AnimatedImage", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The player's strip of thumbnails (media_jobs.jobs.strip): {} until made; then its stored
    # name, tile size and the time each tile shows, or {"error": ...} when it could not be made.
    strip = models.JSONField(default=dict, blank=True)
    prepare_attempts = models.PositiveSmallIntegerField(default=0)
    prepare_job_id = models.CharField(max_length=100, blank=True)
    # The last event sequence number given out for this video (incremented in the event's transaction).
    event_seq = models.PositiveBigIntegerField(default=0, editable=False)

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = VideoQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "-created_at"], name="video_status_created")]

    def __str__(self) -> str:
        return self.title

    @property
    def container_label(self) -> str:
        return CONTAINER_LABELS.get(self.container, self.container.split(",")[0].upper())

    @property
    def media_info(self) -> MediaInfo | None:
        return MediaInfo.from_dict(self.metadata) if self.metadata else None

    def apply_probe(self, info: MediaInfo) -> None:
        self.metadata = info.to_dict()
        self.container = info.container[:64]
        self.duration = info.duration
        self.width = info.width
        self.height = info.height
        self.rotate = info.rotate
        self.bitrate = info.bitrate

    @transaction.atomic
    def mark_ready(self) -> None:
        self.status = self.Status.READY
        self.error_code = ""
        self.error_message = ""
        self.save(update_fields=["status", "error_code", "error_message", "cover_image", "metadata",
                                 "container", "duration", "width", "height", "rotate", "bitrate",
                                 "updated_at"])
        self._record_upload_event()

    @transaction.atomic
    def mark_failed(self, code: str, message: str) -> None:
        self.status = self.Status.FAILED
        self.error_code = code
        self.error_message = message
        self.save(update_fields=["status", "error_code", "error_message", "updated_at"])
        self._record_upload_event()

    def _record_upload_event(self) -> None:
        announce(Event.Kind.UPLOAD, self)

    def set_cover(self, image: "AnimatedImage | None") -> None:
        """Use this animated image as the cover, or go back to the static cover with None."""
        if image is not None and (image.video_id != self.pk or image.status != image.Status.SUCCESS):
            raise ValueError("only a finished animated image of this video can be its cover")
        self.cover_animated = image
        self.save(update_fields=["cover_animated", "updated_at"])

    @property
    def cover_url(self) -> str:
        if self.cover_animated_id and self.cover_animated and self.cover_animated.file:
            return self.cover_animated.file.url
        return self.cover_image.url if self.cover_image else ""

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        stored = [(f.storage, f.name) for f in [self.file, self.cover_image,
                                                *(i.file for i in self.animated_images.all())] if f]
        # What the player's jobs made lives under names of their own; deleting a name that was
        # never made (no playable copy needed) is no error in either storage.
        stored += [(self.file.storage, name) for name in (proxy_name(self), self.strip.get("name")) if name]
        result = super().delete(*args, **kwargs)
        # Files go only once the rows are gone for good: a rolled-back delete keeps them.
        transaction.on_commit(lambda: [storage.delete(name) for storage, name in stored])
        return result
