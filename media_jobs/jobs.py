"""RQ job functions. Each takes a primary key, loads the row, calls the encode core in a child
process, and records the outcome. Running a job twice leaves one output: a render first claims
its row, and a finished row is skipped."""

from __future__ import annotations

import errno
import logging
import os
import shutil
import signal
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, TypeVar

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import DatabaseError, InterfaceError, OperationalError, close_old_connections, connection, transaction
from django.db.models.fields.files import FieldFile
from rq import get_current_job

from media_jobs import queues, services
from media_jobs.encode import EncodeError, ErrorCode, RenderResult
from media_jobs.encode import probe_isolated, render_isolated, snapshot_isolated
from media_jobs.models import AnimatedImage, Video

log = logging.getLogger(__name__)

T = TypeVar("T")

# A full disk fails the output at once with a named error instead of RQ's retries 10 s and 60 s
# later: space rarely comes back that soon, and each retry would render again only to fail. The
# operator frees space and retries the output (console or API).
NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT})

# How long a job keeps trying a database step while the database is unreachable or locked (a
# restart, a failover, a long SQLite lock) before it gives up and leaves the rest to RQ's retry
# and the reconciler.
DATABASE_PATIENCE = 60.0


def _drop_connection() -> None:
    try:
        connection.close()
    except DatabaseError:
        pass


def riding_out(step: Callable[[], T], what: str) -> T:
    """Run one idempotent database step, again on a fresh connection (a terminated one never
    recovers) while the database is away, for up to DATABASE_PATIENCE seconds. Inside a caller's
    transaction there is nothing to retry: the error goes up."""
    deadline = time.monotonic() + DATABASE_PATIENCE
    pause = 0.25
    while True:
        try:
            return step()
        except (OperationalError, InterfaceError) as exc:
            if connection.in_atomic_block or time.monotonic() + pause > deadline:
                raise
            log.warning("database unavailable while %s; trying again in %.2f s: %s", what, pause, exc)
            _drop_connection()
            time.sleep(pause)
            pause = min(pause * 2, 2.0)


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
                    try:
                        if not self.image.heartbeat(self.job_id, self.progress):
                            self.lost = True
                    except DatabaseError as exc:
                        # The database is away for a moment: beat again next time, on a new connection.
                        log.warning("heartbeat of animated image %s failed: %s", self.image.pk, exc)
                        _drop_connection()
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
                services.enqueue_render(image)

    riding_out(put_back, "re-queueing a stopped render")


def output_name(image: AnimatedImage) -> str:
    return f"videos/{image.video.public_id}/animated/{image.public_id}.{image.params.get('format', 'gif')}"


def render_animated_image(image_pk: int) -> str:
    """Render one animated image. Returns its final status."""
    close_old_connections()
    job_id, retries_left = _current_job_id("render")
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


SCRATCH_PREFIXES = ("loopdeck-render-", "loopdeck-prepare-")


def _sweep_stale_scratch() -> None:
    """Remove scratch folders that a killed work horse left in the temp folder (a SIGKILL or the
    OOM killer skips its clean-up, and a half-written output can be large). No job lives longer
    than its RQ timeout, so a folder twice that old belongs to nobody."""
    cutoff = time.time() - 2 * (settings.RENDER_TIMEOUT + 120)
    try:
        entries = list(os.scandir(tempfile.gettempdir()))
    except OSError:
        return
    for entry in entries:
        try:
            if (entry.name.startswith(SCRATCH_PREFIXES) and entry.is_dir(follow_symlinks=False)
                    and entry.stat(follow_symlinks=False).st_mtime < cutoff):
                log.info("removing %s, left by a job that was killed", entry.path)
                shutil.rmtree(entry.path, ignore_errors=True)
        except OSError:
            continue


def _render(image: AnimatedImage, job_id: str) -> None:
    video = image.video
    _sweep_stale_scratch()
    with tempfile.TemporaryDirectory(prefix="loopdeck-render-") as tmp, local_copy(video.file) as source:
        out = Path(tmp) / f"out.{image.params.get('format', 'gif')}"
        with Heartbeat(image, job_id) as beat:
            result = render_isolated(
                source, image.spec(), out, progress=beat.update,
                timeout=settings.RENDER_TIMEOUT, memory_limit_mb=settings.RENDER_MEMORY_LIMIT_MB,
            )
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
    if not video.file:
        # Only an import from a URL has no file yet; the reconciler sends it here once its
        # download job is gone (lost with Redis, or its worker died).
        services.fail_video(video, ErrorCode.DOWNLOAD_FAILED,
                            "the download from the URL was interrupted before it finished; import it again")
        return Video.Status.FAILED
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
        queues.enqueue_proxy(video.pk, f"proxy-{video.public_id}")  # after READY and the renders; never holds READY back
    return video.status
