"""`manage.py reconcile`: re-queue or fail work whose worker died, every RECONCILE_INTERVAL s, and
as soon as a running render's heartbeat turns stale."""

from __future__ import annotations

import logging
import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections
from redis.exceptions import RedisError
from django.db import DatabaseError

from media_jobs.jobs.reconcile import reconcile, seconds_to_next_pass

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Compare the database with RQ and re-queue or fail renders left behind by dead workers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="run one pass and exit")

    def handle(self, *args: object, once: bool, **options: object) -> None:
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        while True:
            pause = settings.RECONCILE_INTERVAL
            try:
                close_old_connections()
                report = reconcile()
                if once:
                    self.stdout.write(str(report))
                pause = seconds_to_next_pass()
            except (DatabaseError, RedisError, OSError) as exc:
                # The database or Redis is briefly away: try again next round, do not die.
                log.warning("reconciler pass failed, retrying: %s", exc)
            if once or stop.wait(pause):
                return
