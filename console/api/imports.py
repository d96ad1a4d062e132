"""Videos created from a URL the server downloads (Alibaba `CreateGifTask`'s `VideoUrl`).

The API checks the URL at once and answers with a PROCESSING video; a job on the light queue
downloads it (the address rules of `media_jobs.net` apply again at connect time and on each
redirect), probes it, stores it and hands over to the usual preparation job. A URL that cannot
be fetched or is not a usable video fails the video, and any workflow outputs waiting on it,
with a named error.
"""

from __future__ import annotations

import uuid
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from django.db import transaction

from media_jobs import net, services
from media_jobs.jobs import queues
from media_jobs.models import Task, Video, Workflow


def file_name(url: str) -> str:
    return PurePosixPath(unquote(urlsplit(url).path)).name[:255]


@transaction.atomic
def start_import(url: str, title: str | None, workflow: Workflow | None) -> Video:
    """Create the PROCESSING video (and its workflow task) and queue the download after commit."""
    net.check_url(url)
    name = file_name(url)
    video = Video.objects.create(title=((title or "").strip() or Path(name).stem or "Untitled")[:255],
                                 original_filename=name, workflow=workflow)
    if workflow is not None:
        services.submit_task(video, services.steps_for_workflow(workflow), origin=Task.Origin.UPLOAD,
                             workflow=workflow, check_range=False)
    job_id = f"fetch-{video.public_id}-{uuid.uuid4().hex[:8]}"
    # The reconciler watches prepare_job_id: while the download runs, the video is not "stuck".
    Video.objects.filter(pk=video.pk).update(prepare_job_id=job_id)
    video.prepare_job_id = job_id
    queues.enqueue_fetch(video.pk, url.strip(), job_id)
    return video
