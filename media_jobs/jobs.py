"""RQ job functions. Each takes a primary key, loads the row, calls the encode core in a child
process, and records the outcome. Running a job twice leaves one output: a render first claims
its row, and a finished row is skipped."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import close_old_connections, connection, transaction
from django.db.models.fields.files import FieldFile
from rq import get_current_job

from media_jobs import services
from media_jobs.encode import EncodeError, ErrorCode
from media_jobs.encode import probe_isolated, render_isolated, snapshot_isolated
from media_jobs.models import AnimatedImage, Video

log = logging.getLogger(__name__)


def _current_job_id(prefix: str) -> tuple[str, int]:
    """The running RQ job's id and how many retries it has left (inline calls get none)."""
    job = get_current_job()
    if job is None:
        return f"{prefix}-inline-{os.getpid()}-{threading.get_ident()}", 0
    return job.id, int(job.retries_left or 0)


@contextmanager
def local_copy(stored: FieldFile) -> Iterator[Path]:
    """A local path to a stored file: the file itself on local disk, else a temporary download
    (web and workers may not share a disk when media lives in object storage)."""
    try:
        yield Path(stored.path)
        return
    except NotImplementedError:
        pass
    suffix = Path(stored.name).suffix
    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
        with stored.open("rb") as source:
            shutil.copyfileobj(source, tmp, 1024 * 1024)
        tmp.flush()
        yield Path(tmp.name)


class Heartbeat:
    """Reports progress and liveness for a claimed image from a background thread.

    The render runs in a child process for minutes; without a heartbeat the reconciler could not
    tell a long render from a dead worker.
    """

    def __init__(self, image: AnimatedImage, job_id: str):
        self.image = image
        self.job_id = job_id
        self.progress = 0
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="loopdeck-heartbeat", daemon=True)

    def update(self, fraction: float) -> None:
        self.progress = int(max(0.0, min(1.0, fraction)) * 99)  # 100 only once stored

    def _run(self) -> None:
        sent = -1
        beat_every = settings.HEARTBEAT_INTERVAL
        waited = 0.0
        try:
            while not self._stop.wait(min(1.0, beat_every)):
                waited += min(1.0, beat_every)
                if self.progress != sent or waited >= beat_every:
                    if not self.image.heartbeat(self.job_id, self.progress):
                        self.lost = True
                    sent, waited = self.progress, 0.0
        finally:
            connection.close()

    def __enter__(self) -> "Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


class StopSignal:
    """Notes a SIGTERM that reaches the process running a render, instead of dying of it.

    RQ's work horse takes SIGTERM with the default action: a service manager that signals every
    process of the service (systemd's default KillMode) would kill the horse mid-render, losing
    the render until the reconciler notices the silence, and the render child dying of the same
    signal would look like a decoder crash (DecodeFailed, permanent). Caught, the render either
    finishes (when only the horse got the signal) or goes straight back on the queue. The worker
    itself got the signal too and stops after this job (RQ's warm shutdown).
    """

    def __init__(self) -> None:
        self.received: int | None = None
        self._previous = None

    def _note(self, signum: int, frame: object) -> None:
        self.received = signum

    def __enter__(self) -> StopSignal:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGTERM, self._note)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is None:
            return
        signal.signal(signal.SIGTERM, self._previous)
        if self.received and callable(self._previous):
            self._previous(self.received, None)  # an in-process worker's own stop request


def _put_back(image: AnimatedImage, job_id: str, note: str) -> None:
    """Re-queue a render that was stopped from outside; the stopped attempt does not count."""
    with transaction.atomic():
        if image.release(job_id, note, refund_attempt=True):
            services.enqueue_render(image)


def output_name(image: AnimatedImage) -> str:
    return f"videos/{image.video.public_id}/animated/{image.public_id}.{image.params.get('format', 'gif')}"


def render_animated_image(image_pk: int) -> str:
    """Render one animated image. Returns its final status."""
    close_old_connections()
    job_id, retries_left = _current_job_id("render")
    image = AnimatedImage.objects.select_related("video", "task").filter(pk=image_pk).first()
    if image is None:
        return "gone"
    if image.is_final:
        return image.status
    if image.attempts >= settings.MAX_RENDER_ATTEMPTS:
        image.record_failure(ErrorCode.WORKER_LOST, f"gave up after {image.attempts} attempts whose worker stopped")
        image.task.refresh_status()
        return image.status
    if not image.claim(job_id, settings.HEARTBEAT_STALE_AFTER):
        return "claimed-elsewhere"
    image.task.mark_processing()
    stop = StopSignal()
    try:
        with stop:
            _render(image, job_id)
    except EncodeError as exc:
        if stop.received:
            _put_back(image, job_id, f"re-queued: the worker was stopped during the render ({exc.message})")
        elif exc.permanent or retries_left == 0:
            image.record_failure(exc.code, exc.message, job_id)
        else:
            image.release(job_id, f"retrying after: {exc.message}")
            raise
    except Exception as exc:  # noqa: BLE001 - any other failure is transient until retries run out
        log.exception("render of animated image %s failed", image.pk)
        if stop.received:
            _put_back(image, job_id, f"re-queued: the worker was stopped during the render ({exc})")
        elif retries_left == 0:
            image.record_failure(ErrorCode.INTERNAL_ERROR, f"{type(exc).__name__}: {exc}", job_id)
        else:
            image.release(job_id, f"retrying after: {type(exc).__name__}: {exc}")
            raise
    finally:
        image.task.refresh_status()
    image.refresh_from_db()
    return image.status


def _render(image: AnimatedImage, job_id: str) -> None:
    video = image.video
    with tempfile.TemporaryDirectory(prefix="loopdeck-render-") as tmp, local_copy(video.file) as source:
        out = Path(tmp) / f"out.{image.params.get('format', 'gif')}"
        with Heartbeat(image, job_id) as beat:
            result = render_isolated(
                source, image.spec(), out, progress=beat.update,
                timeout=settings.RENDER_TIMEOUT, memory_limit_mb=settings.RENDER_MEMORY_LIMIT_MB,
            )
        if not image.owned_by(job_id).exists():
            log.warning("animated image %s was taken over while rendering; dropping this result", image.pk)
            return
        with out.open("rb") as handle:
            name = default_storage.save(output_name(image), File(handle))
    with transaction.atomic():
        if image.record_success(job_id, result, name):
            if image.set_as_cover:
                video.set_cover(image)
        else:
            transaction.on_commit(lambda: default_storage.delete(name))


def prepare_video(video_pk: int) -> str:
    """Probe a new video (unless the upload form did), store its static cover, mark it READY,
    then queue the renders of any task waiting for it. A file we cannot use fails the video and
    every output waiting on it with the same named error."""
    close_old_connections()
    job_id, retries_left = _current_job_id("prepare")
    video = Video.objects.filter(pk=video_pk).first()
    if video is None or video.status != Video.Status.PROCESSING:
        return "skipped"
    Video.objects.filter(pk=video.pk).update(prepare_attempts=video.prepare_attempts + 1)
    try:
        with tempfile.TemporaryDirectory(prefix="loopdeck-prepare-") as tmp, local_copy(video.file) as source:
            if not video.metadata:
                video.apply_probe(probe_isolated(source, timeout=settings.PROBE_TIMEOUT))
            cover = Path(tmp) / "cover.jpg"
            snapshot_isolated(source, cover, timeout=settings.PROBE_TIMEOUT)
            with cover.open("rb") as handle:
                video.cover_image.save("cover.jpg", File(handle), save=False)
    except EncodeError as exc:
        if exc.permanent or retries_left == 0:
            services.fail_video(video, exc.code, exc.message)
            return video.status
        raise
    except Exception as exc:  # noqa: BLE001 - transient until retries run out
        if retries_left == 0:
            services.fail_video(video, ErrorCode.INTERNAL_ERROR, f"{type(exc).__name__}: {exc}")
            return video.status
        raise
    with transaction.atomic():
        video.mark_ready()
        for image in AnimatedImage.objects.filter(video=video, status=AnimatedImage.Status.WAITING):
            services.enqueue_render(image)
    return video.status
