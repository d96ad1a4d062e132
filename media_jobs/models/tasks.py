"""Tasks (one submission for one video) and their animated images (one output each)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.db import models, transaction
from django.utils.translation import gettext_lazy as _
from django.db.models import Q
from django.utils import timezone

from media_jobs.encode import RenderResult, RenderSpec

from .events import Event, announce


def output_upload_to(image: "AnimatedImage", filename: str) -> str:
    ext = image.params.get("format", "gif")
    return f"videos/{image.video.public_id}/animated/{image.public_id}.{ext}"


class Task(models.Model):
    """One submission for one video (Tencent `ProcessMedia`, Alibaba `SubmitDynamicImageJob`).

    States: WAITING → PROCESSING (when its first output starts) → FINISH (when every output is
    SUCCESS or FAIL), or WAITING → ABORTED. A finished task carries `result` SUCCESS when all
    outputs succeeded, otherwise FAIL with the first failure's code and message.
    """

    class Status(models.TextChoices):
        WAITING = "WAITING", _("Waiting")
        PROCESSING = "PROCESSING", _("Processing")
        FINISH = "FINISH", _("Finished")
        ABORTED = "ABORTED", _("Aborted")

    class Origin(models.TextChoices):
        CONSOLE = "CONSOLE", _("Console")
        UPLOAD = "UPLOAD", _("Upload workflow")
        API = "API", _("API")
        VENDOR = "VENDOR", _("Vendor API")

    class Result(models.TextChoices):
        SUCCESS = "SUCCESS", _("Success")
        FAIL = "FAIL", _("Failed")

    task_id = models.UUIDField(unique=True, editable=False, default=uuid.uuid4)
    video = models.ForeignKey("media_jobs.Video", on_delete=models.CASCADE, related_name="tasks")
    workflow = models.ForeignKey("media_jobs.Workflow", on_delete=models.SET_NULL, null=True, blank=True)
    origin = models.CharField(max_length=8, choices=Origin.choices, default=Origin.CONSOLE)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    result = models.CharField(max_length=7, choices=Result.choices, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    # Tencent's ProcessMedia: SessionContext is echoed in events and task details; SessionId
    # makes a repeated submission return the first task (for VENDOR_SESSION_DAYS).
    session_context = models.CharField(max_length=1000, blank=True)
    session_id = models.CharField(max_length=50, blank=True, db_index=True)
    # Alibaba OSS `notify,topic_<b64>`: the task-finished event also goes to the subscription of
    # this name, whatever events it subscribes to.
    notify_topic = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    begun_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "-created_at"], name="task_status_created")]

    def __str__(self) -> str:
        return str(self.task_id)

    @property
    def is_final(self) -> bool:
        return self.status in (self.Status.FINISH, self.Status.ABORTED)

    @property
    def elapsed(self) -> float | None:
        """Seconds from the first output starting to the last one finishing."""
        if self.begun_at and self.finished_at:
            return (self.finished_at - self.begun_at).total_seconds()
        return None

    @transaction.atomic
    def mark_processing(self) -> None:
        updated = Task.objects.filter(pk=self.pk, status=self.Status.WAITING).update(
            status=self.Status.PROCESSING, begun_at=timezone.now()
        )
        if updated:
            self.refresh_from_db(fields=["status", "begun_at"])
            announce(Event.Kind.TASK_STATE, self.video, task=self)

    @transaction.atomic
    def refresh_status(self) -> bool:
        """Finish the task if every output is final. Returns True when this call finished it."""
        task = Task.objects.select_for_update().get(pk=self.pk)
        if task.is_final:
            return False
        outputs = list(task.outputs.order_by("position"))
        if not outputs or any(not o.is_final for o in outputs):
            return False
        failed = [o for o in outputs if o.status == AnimatedImage.Status.FAIL]
        task.status = self.Status.FINISH
        task.finished_at = timezone.now()
        task.begun_at = task.begun_at or task.finished_at
        if failed:
            task.result = self.Result.FAIL
            task.error_code = failed[0].error_code
            task.error_message = f"{len(failed)} of {len(outputs)} animated images failed: {failed[0].error_message}"
        else:
            task.result = self.Result.SUCCESS
        task.save(update_fields=["status", "finished_at", "begun_at", "result", "error_code", "error_message"])
        self.refresh_from_db()
        announce(Event.Kind.TASK_FINISH, self.video, task=self)
        return True


class AnimatedImage(models.Model):
    """One output of a task, with the template parameters copied at submission.

    States: WAITING → PROCESSING (claimed by a worker, which heartbeats) → SUCCESS or FAIL.
    A PROCESSING image whose heartbeat stops is put back to WAITING by the reconciler (or failed
    with WorkerLost after MAX_RENDER_ATTEMPTS). A failed image can be retried: back to WAITING.
    """

    class Status(models.TextChoices):
        WAITING = "WAITING", _("Waiting")
        PROCESSING = "PROCESSING", _("Processing")
        SUCCESS = "SUCCESS", _("Success")
        FAIL = "FAIL", _("Failed")

    public_id = models.UUIDField(unique=True, editable=False, default=uuid.uuid4)
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="outputs")
    video = models.ForeignKey("media_jobs.Video", on_delete=models.CASCADE, related_name="animated_images")
    position = models.PositiveSmallIntegerField(default=0)
    template = models.ForeignKey(
        "media_jobs.AnimatedImageTemplate", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    definition = models.PositiveIntegerField()
    template_name = models.CharField(max_length=64)
    params = models.JSONField(help_text="RenderSpec fields, copied from the template at submission.")
    set_as_cover = models.BooleanField(default=False)
    start_time_offset = models.FloatField(null=True, blank=True)
    end_time_offset = models.FloatField(null=True, blank=True)

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING, db_index=True)
    progress = models.PositiveSmallIntegerField(default=0)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    rq_job_id = models.CharField(max_length=100, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    begun_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    file = models.FileField(upload_to=output_upload_to, max_length=255, blank=True)
    container = models.CharField(max_length=8, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    bitrate = models.BigIntegerField(null=True, blank=True)
    size = models.BigIntegerField(null=True, blank=True)
    md5 = models.CharField(max_length=32, blank=True)
    frames = models.PositiveIntegerField(null=True, blank=True)
    fps = models.FloatField(null=True, blank=True)
    duration = models.FloatField(null=True, blank=True)
    start_offset = models.FloatField(null=True, blank=True)
    end_offset = models.FloatField(null=True, blank=True)
    clipped = models.BooleanField(default=False)
    # What the template's size budget lowered to fit ("quality 75 → 45"), in order.
    budget_steps = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["task", "position"]
        constraints = [
            models.CheckConstraint(condition=Q(progress__gte=0, progress__lte=100), name="animated_image_progress_range"),
        ]

    def __str__(self) -> str:
        return f"{self.template_name} for {self.video_id} ({self.status})"

    @property
    def is_final(self) -> bool:
        return self.status in (self.Status.SUCCESS, self.Status.FAIL)

    @property
    def elapsed(self) -> float | None:
        if self.begun_at and self.finished_at:
            return (self.finished_at - self.begun_at).total_seconds()
        return None

    def spec(self) -> RenderSpec:
        return RenderSpec.from_mapping(self.params)

    def claim(self, job_id: str, stale_after: float) -> bool:
        """Take this image for rendering. Only one worker wins: a WAITING image, or one whose
        worker stopped heartbeating, is moved to PROCESSING in one conditional UPDATE. The same
        job may take it again: RQ retrying it after a failure that left the row PROCESSING (the
        database was away), or a claim whose answer was lost on the way back."""
        now = timezone.now()
        stale = now - timedelta(seconds=stale_after)
        claimable = (Q(status=self.Status.WAITING) | Q(status=self.Status.PROCESSING, heartbeat_at__lt=stale)
                     | Q(status=self.Status.PROCESSING, rq_job_id=job_id))
        won = AnimatedImage.objects.filter(claimable, pk=self.pk).update(
            status=self.Status.PROCESSING, rq_job_id=job_id, heartbeat_at=now, begun_at=now,
            progress=0, attempts=models.F("attempts") + 1, error_code="", error_message="",
        )
        if won:
            self.refresh_from_db()
        return bool(won)

    def owned_by(self, job_id: str) -> models.QuerySet["AnimatedImage"]:
        """This row, but only while the given job still holds it."""
        return AnimatedImage.objects.filter(pk=self.pk, status=self.Status.PROCESSING, rq_job_id=job_id)

    def heartbeat(self, job_id: str, progress: int | None = None) -> bool:
        changes: dict[str, Any] = {"heartbeat_at": timezone.now()}
        if progress is not None:
            changes["progress"] = max(0, min(100, progress))
        return bool(self.owned_by(job_id).update(**changes))

    def record_success(self, job_id: str, result: RenderResult, file_name: str) -> bool:
        fields = {
            "status": self.Status.SUCCESS, "progress": 100, "finished_at": timezone.now(), "file": file_name,
            "container": result.container, "width": result.width, "height": result.height,
            "bitrate": result.bitrate, "size": result.size, "md5": result.md5, "frames": result.frames,
            "fps": result.fps, "duration": result.duration, "start_offset": result.start_offset,
            "end_offset": result.end_offset, "clipped": result.clipped, "budget_steps": list(result.budget_steps),
        }
        with transaction.atomic():
            won = self.owned_by(job_id).update(**fields)
            if won:
                self.refresh_from_db()
                announce(Event.Kind.OUTPUT, self.video, task=self.task, image=self)
        return bool(won)

    def record_failure(self, code: str, message: str, job_id: str | None = None) -> bool:
        rows = self.owned_by(job_id) if job_id else AnimatedImage.objects.filter(pk=self.pk).exclude(
            status__in=[self.Status.SUCCESS, self.Status.FAIL]
        )
        with transaction.atomic():
            won = rows.update(status=self.Status.FAIL, error_code=code, error_message=message[:2000],
                              finished_at=timezone.now())
            if won:
                self.refresh_from_db()
                announce(Event.Kind.OUTPUT, self.video, task=self.task, image=self)
        return bool(won)

    def release(self, job_id: str, note: str, refund_attempt: bool = False) -> bool:
        """Give the image back to the queue after a transient failure (RQ retries the job).
        `refund_attempt`: the attempt was stopped from outside and does not count."""
        changes: dict[str, Any] = {"status": self.Status.WAITING, "progress": 0, "error_message": note[:2000]}
        if refund_attempt:
            changes["attempts"] = models.F("attempts") - 1
        return bool(self.owned_by(job_id).update(**changes))

    @transaction.atomic
    def reset_for_retry(self) -> None:
        """Operator retry of a failed output: back to WAITING with a fresh attempt count."""
        if self.status != self.Status.FAIL:
            raise ValueError("only a failed animated image can be retried")
        AnimatedImage.objects.filter(pk=self.pk).update(
            status=self.Status.WAITING, progress=0, error_code="", error_message="", attempts=0,
            finished_at=None, heartbeat_at=None,
        )
        was = Task.objects.values_list("status", flat=True).get(pk=self.task_id)
        Task.objects.filter(pk=self.task_id).update(
            status=Task.Status.PROCESSING, result="", error_code="", error_message="", finished_at=None,
            # Processing time measures the run that finishes the task, not the idle time before the retry.
            begun_at=timezone.now(),
        )
        self.refresh_from_db()
        if was != Task.Status.PROCESSING:
            task = Task.objects.select_related("video").get(pk=self.task_id)
            announce(Event.Kind.TASK_STATE, task.video, task=task)
