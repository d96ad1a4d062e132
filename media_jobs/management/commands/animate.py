"""`manage.py animate VIDEO --template 20001 --start 5 --end 8 -o out.webp`

Renders one animated image from the shell with the same steps as a worker: the template's
parameters, the task's start/end override, the same validation, the same isolated render.
VIDEO is a file path or the id of a video in the library.
"""

from __future__ import annotations

import json
import sys
import uuid
from contextlib import nullcontext
from typing import ContextManager
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from media_jobs.encode import EncodeError, probe_isolated, render_isolated
from media_jobs.errors import LoopdeckError
from media_jobs.jobs.common import local_copy
from media_jobs.models import AnimatedImageTemplate, Video
from media_jobs.commands.tasks import StepRequest, check_step


class Command(BaseCommand):
    help = "Render an animated image from a video with a template (the worker's code path)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("video", help="a video file, or the id of a video in the library")
        parser.add_argument("--template", "-t", type=int, required=True, help="template definition, e.g. 20001")
        parser.add_argument("--start", type=float, default=None, help="start offset in seconds (negative: from the end)")
        parser.add_argument("--end", type=float, default=None, help="end offset in seconds (negative: from the end)")
        parser.add_argument("-o", "--output", required=True, help="where to write the GIF or WebP")

    def handle(self, *args: object, video: str, template: int, start: float | None, end: float | None,
               output: str, **options: object) -> None:
        try:
            tpl = AnimatedImageTemplate.objects.get(definition=template)
        except AnimatedImageTemplate.DoesNotExist:
            raise CommandError(f"ResourceNotFound: no template with definition {template}") from None
        with self._source(video) as source:
            self._render(source, tpl, start, end, output)

    def _render(self, source: Path, tpl: AnimatedImageTemplate, start: float | None, end: float | None,
                output: str) -> None:
        try:
            info = probe_isolated(source)
            target = Video(duration=info.duration)  # unsaved: only its duration is checked
            spec = check_step(StepRequest(tpl, start, end), target)
            result = render_isolated(source, spec, Path(output), progress=self._progress)
        except (EncodeError, LoopdeckError) as exc:
            sys.stderr.write("\n" + json.dumps(exc.as_dict()) + "\n")
            raise CommandError(f"{exc.code}: {exc.message}", returncode=2) from exc
        sys.stderr.write("\n")
        self.stdout.write(json.dumps(result.to_dict(), indent=2))

    def _source(self, video: str) -> ContextManager[Path]:
        path = Path(video)
        if path.exists():
            return nullcontext(path)
        try:
            stored = Video.objects.get(public_id=uuid.UUID(video))
        except (ValueError, Video.DoesNotExist):
            raise CommandError(f"ResourceNotFound: {video} is neither a file nor a video id") from None
        return local_copy(stored.file)  # a download into scratch space when media is in a bucket

    def _progress(self, fraction: float) -> None:
        sys.stderr.write(f"\rrendering {fraction * 100:5.1f}%")
        sys.stderr.flush()
