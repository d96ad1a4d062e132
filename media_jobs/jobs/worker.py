"""The RQ worker the run command and `manage.py rqworker` start (settings.RQ["WORKER_CLASS"])."""

from __future__ import annotations

from rq import Worker as RQWorker

from media_jobs.jobs import scratch

# How long the worker's command listener (RQ's pubsub thread) waits for a message at a time.
PUBSUB_POLL_SECONDS = 1.0


class QuickPubSub:
    """RQ listens for commands (stop a job, shut down) on a pubsub thread that waits up to 60 s
    for a message, and redis-py 8's stop() joins that thread without a timeout: a worker's
    teardown (a warm shutdown, the end of a burst) then waited up to a minute. The listener here
    wakes every second."""

    def subscribe(self) -> None:
        self.log.info("Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=PUBSUB_POLL_SECONDS, daemon=True, exception_handler=self._pubsub_exception_handler
        )


class Worker(QuickPubSub, RQWorker):
    """An RQ worker that first clears what killed jobs left in this machine's scratch space."""

    def work(self, *args, **kwargs):  # noqa: ANN002, ANN003 - RQ's signature, passed through
        scratch.sweep()
        return super().work(*args, **kwargs)
