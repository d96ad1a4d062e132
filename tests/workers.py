"""The in-process burst worker the tests drain queues with (no fork: the test database lives in
this process), with the product's quick command listener (see media_jobs.jobs.worker)."""

from rq import SimpleWorker

from media_jobs.jobs.worker import QuickPubSub


class BurstWorker(QuickPubSub, SimpleWorker):
    pass
