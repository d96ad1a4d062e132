"""The RQ worker the run command and `manage.py rqworker` start (settings.RQ["WORKER_CLASS"])."""

from __future__ import annotations

from rq import Worker as RQWorker

from media_jobs.jobs import scratch


class Worker(RQWorker):
    """An RQ worker that first clears what killed jobs left in this machine's temp folder."""

    def work(self, *args, **kwargs):  # noqa: ANN002, ANN003 - RQ's signature, passed through
        scratch.sweep()
        return super().work(*args, **kwargs)
