"""The render job: one animated image, rendered in a child process, stored under its final name
only when complete. Running it twice leaves one output: a render first claims its row, and a
finished row is skipped."""

from __future__ import annotations

import errno
import logging
import signal
import threading
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import DatabaseError, close_old_connections, connection, transaction

from media_jobs.jobs import queues
from media_jobs.encode import EncodeError, RenderResult, render_isolated
from media_jobs.errors import ErrorCode
from media_jobs.jobs import scratch
from media_jobs.jobs.common import current_job_id, drop_connection, local_copy, riding_out
from media_jobs.models import AnimatedImage

log = logging.getLogger(__name__)

# A full disk fails the output at once with a named error instead of RQ's retries 10 s and 60 s
# later: space rarely comes back that soon, and each retry would render again only to fail. The
# operator frees space and retries the output (console or API).
NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT})


class RenderStopped(Exception):
    """The row stopped being this render's while it ran: its result is not wanted."""


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
        """The child's progress. Once a beat finds the row no longer ours (the task was aborted,
        or another worker took the image over), the render stops here: raising out of the relay
        kills the child."""
        if self.lost:
            raise RenderStopped(f"animated image {self.image.pk} is no longer this render's")
        self.progress = int(max(0.0, min(1.0, fraction)) * 99)  # 100 only once stored

    def _run(self) -> None:
        sent = -1
        beat_every = settings.HEARTBEAT_INTERVAL
        waited = 0.0
        try:
            while not self._stop.wait(min(1.0, beat_every)):
                waited += min(1.0, beat_every)
                if self.progress != sent or waited >= beat_every:
                    try:
                        if not self.image.heartbeat(self.job_id, self.progress):
                            self.lost = True
                    except DatabaseError as exc:
                        # The database is away for a moment: beat again next time, on a new connection.
                        log.warning("heartbeat of animated image %s failed: %s", self.image.pk, exc)
                        drop_connection()
                        continue
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
    def put_back() -> None:
        with transaction.atomic():
            if image.release(job_id, note, refund_attempt=True):
                queues.enqueue_render_of(image)

    riding_out(put_back, "re-queueing a stopped render")


def output_name(image: AnimatedImage) -> str:
    return f"videos/{image.video.public_id}/animated/{image.public_id}.{image.params.get('format', 'gif')}"


def render_animated_image(image_pk: int) -> str:
    """Render one animated image. Returns its final status."""
    close_old_connections()
    job_id, retries_left = current_job_id("render")
    image = riding_out(
        lambda: AnimatedImage.objects.select_related("video", "task").filter(pk=image_pk).first(), "loading")
    if image is None:
        return "gone"
    if image.is_final:
        riding_out(image.task.refresh_status, "finishing the task")
        return image.status
    if image.attempts >= settings.MAX_RENDER_ATTEMPTS:
        message = f"gave up after {image.attempts} attempts whose worker stopped"
        riding_out(lambda: image.record_failure(ErrorCode.WORKER_LOST, message), "recording the failure")
        riding_out(image.task.refresh_status, "finishing the task")
        return image.status
    if not riding_out(lambda: image.claim(job_id, settings.HEARTBEAT_STALE_AFTER), "claiming"):
        return "claimed-elsewhere"
    riding_out(image.task.mark_processing, "starting the task")
    stop = StopSignal()
    try:
        with stop:
            _render(image, job_id)
    except EncodeError as exc:
        code, message = exc.code, exc.message
        if stop.received:
            _put_back(image, job_id, f"re-queued: the worker was stopped during the render ({message})")
        elif exc.permanent or code == ErrorCode.INSUFFICIENT_STORAGE or retries_left == 0:
            riding_out(lambda: image.record_failure(code, message, job_id), "recording the failure")
        else:
            riding_out(lambda: image.release(job_id, f"retrying after: {message}"), "releasing")
            raise
    except Exception as exc:  # noqa: BLE001 - any other failure is transient until retries run out
        log.exception("render of animated image %s failed", image.pk)
        message = f"{type(exc).__name__}: {exc}"
        if stop.received:
            _put_back(image, job_id, f"re-queued: the worker was stopped during the render ({exc})")
        elif retries_left == 0:
            riding_out(lambda: image.record_failure(ErrorCode.INTERNAL_ERROR, message, job_id), "recording the failure")
        else:
            riding_out(lambda: image.release(job_id, f"retrying after: {message}"), "releasing")
            raise
    finally:
        riding_out(image.task.refresh_status, "finishing the task")
    riding_out(image.refresh_from_db, "reloading")
    return image.status


def _render(image: AnimatedImage, job_id: str) -> None:
    video = image.video
    scratch.sweep()
    with scratch.scratch_folder("loopdeck-render-") as tmp, local_copy(video.file, tmp) as source:
        out = Path(tmp) / f"out.{image.params.get('format', 'gif')}"
        with Heartbeat(image, job_id) as beat:
            try:
                result = render_isolated(
                    source, image.spec(), out, progress=beat.update,
                    timeout=settings.RENDER_TIMEOUT, memory_limit_mb=settings.RENDER_MEMORY_LIMIT_MB,
                )
            except RenderStopped as stopped:
                log.info("stopped rendering: %s", stopped)
                return
        if not riding_out(image.owned_by(job_id).exists, "checking the claim"):
            log.warning("animated image %s was taken over while rendering; dropping this result", image.pk)
            return
        name = _store(out, output_name(image))
    try:
        recorded = riding_out(lambda: _record_success(image, job_id, result, name), "recording the result")
    except BaseException:
        # The row does not point at the file (the database stayed away): no file without its row.
        default_storage.delete(name)
        raise
    if not recorded:
        default_storage.delete(name)


def _store(out: Path, name: str) -> str:
    """Save the finished output under its final name (the storage writes a temporary name and
    renames it, so a full disk leaves nothing behind). This render holds the image, so any
    temporary file of the same name is a leftover of an earlier render killed while saving."""
    remove_partials = getattr(default_storage, "remove_partials", None)
    if remove_partials is not None and remove_partials(name):
        log.info("removed the partial file(s) of %s left by a killed render", name)
    try:
        with out.open("rb") as handle:
            return default_storage.save(name, File(handle))
    except OSError as exc:
        if exc.errno in NO_SPACE:
            size = out.stat().st_size
            raise EncodeError(ErrorCode.INSUFFICIENT_STORAGE,
                              f"no space left on the media storage for this {size:,}-byte output; "
                              "free some space, then retry it") from exc
        raise


def _record_success(image: AnimatedImage, job_id: str, result: RenderResult, name: str) -> bool:
    """Point the row at the stored file. False when another render holds the image now. A retry
    after a commit whose answer was lost finds its own file recorded: that counts as done."""
    with transaction.atomic():
        if image.record_success(job_id, result, name):
            if image.set_as_cover:
                image.video.set_cover(image)
            return True
    return AnimatedImage.objects.filter(pk=image.pk, status=AnimatedImage.Status.SUCCESS, file=name).exists()


