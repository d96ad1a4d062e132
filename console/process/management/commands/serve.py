"""`manage.py serve`: everything Loopdeck needs on one machine, ready to sign in."""

from __future__ import annotations

import os
import secrets
import shutil
import sys
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from console.env import local_base_url
from console.process.redis_server import is_reachable, start_local_redis
from console.process.supervisor import Child, Supervisor, quick_worker_argv, reconciler_argv, worker_argv
from console.web.catalogues import compile_catalogues


class Command(BaseCommand):
    help = "Migrate, create an admin login, start Redis (unless REDIS_URL is set), workers, the reconciler and the web server."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("LOOPDECK_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("LOOPDECK_PORT", "8000")))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("LOOPDECK_WORKERS", "2")),
                            help="RQ worker processes for renders (each renders one animated image at a time); "
                                 "one more worker handles only callbacks and probes")

    def handle(self, *args: object, host: str, port: int, workers: int, **options: object) -> None:
        compile_catalogues(settings.BASE_DIR / "locale")  # the console's languages (.po -> .mo)
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        self._ensure_admin()

        env = dict(os.environ)
        # The web process and the workers write payload URLs: they must name this port, also
        # when it came from --port rather than LOOPDECK_PORT.
        env.setdefault("PUBLIC_BASE_URL", local_base_url(host, port))
        redis_child = None
        if "REDIS_URL" not in os.environ:
            if not is_reachable(settings.REDIS_URL):
                redis_child = self._start_redis()
            env["REDIS_URL"] = settings.REDIS_URL
        elif not is_reachable(settings.REDIS_URL):
            self.stderr.write(f"REDIS_URL={settings.REDIS_URL} does not answer; start it or unset REDIS_URL.")
            sys.exit(1)

        manage = os.path.join(settings.BASE_DIR, "manage.py")
        gunicorn = shutil.which("gunicorn", path=os.path.dirname(sys.executable)) or "gunicorn"
        # Workers stop when Redis does; with our own Redis they wait for it to answer again.
        children = [Child(f"worker-{n + 1}", worker_argv(manage), needs=redis_child) for n in range(max(1, workers))]
        children.append(Child("quick-worker", quick_worker_argv(manage), needs=redis_child))
        children.append(Child("reconciler", reconciler_argv(manage)))
        children.append(Child("web", [
            gunicorn, "console.wsgi", "--bind", f"{host}:{port}", "--workers", "2", "--threads", "4",
            "--timeout", "600", "--access-logfile", "-", "--chdir", str(settings.BASE_DIR),
        ]))
        self.stdout.write(self.style.SUCCESS(f"Loopdeck is running at http://{host}:{port}/  (Ctrl-C stops it)"))
        if redis_child is not None:
            children.insert(0, redis_child)
        try:
            Supervisor(children, env, log=self._log).run()
        finally:
            if redis_child is not None and redis_child.alive():
                redis_child.process.terminate()
                redis_child.process.wait(timeout=10)

    def _start_redis(self) -> Child:
        """Our own Redis, supervised like the other children: restarted (with back-off) if it
        dies, its append-only file bringing back the queued jobs."""
        process = start_local_redis(settings.REDIS_SOCKET, settings.DATA_DIR / "redis", settings.DATA_DIR / "redis.log")
        self.stdout.write(f"Started Redis on {settings.REDIS_SOCKET}")
        url = settings.REDIS_URL
        return Child("redis", list(process.args), process=process, started_at=time.monotonic(),
                     ready=lambda: is_reachable(url, timeout=0.5))

    def _log(self, message: str) -> None:
        self.stdout.write(f"{time.strftime('%H:%M:%S')} {message}")
        self.stdout.flush()

    def _ensure_admin(self) -> None:
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            return
        username = os.environ.get("LOOPDECK_ADMIN_USER", "admin")
        password = os.environ.get("LOOPDECK_ADMIN_PASSWORD")
        generated = not password
        password = password or secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email="", password=password)
        if generated:
            self.stdout.write(self.style.WARNING(
                f"Created the admin login (shown once): user {username!r}, password {password!r}\n"
                f"Change it with: {changepassword_command(username)}"
            ))
        else:
            self.stdout.write(f"Created the admin login {username!r} with LOOPDECK_ADMIN_PASSWORD.")


def changepassword_command(username: str) -> str:
    """The command that works as printed: this interpreter (the project's venv), not whatever
    `python` is on the PATH, from the project folder."""
    python = os.path.relpath(sys.executable, settings.BASE_DIR) if sys.executable.startswith(str(settings.BASE_DIR)) \
        else sys.executable
    return f"{python} manage.py changepassword {username}"
