"""The overview page: what is happening now and whether the workers are alive."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from redis.exceptions import RedisError
from rq import Worker

from media_jobs.jobs import queues
from media_jobs.models import Task, Video


def queue_health() -> dict:
    """Workers alive and jobs queued per queue; `error` when Redis cannot be reached."""
    try:
        connection = queues.get_queue(queues.ENCODE).connection
        return {
            "workers": len(Worker.all(connection=connection)),
            "queues": [{"name": name, "queued": queues.get_queue(name).count} for name in queues.ALL],
            "error": "",
        }
    except (RedisError, OSError) as exc:
        return {"workers": 0, "queues": [], "error": f"Redis is unreachable: {exc}"}


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    day_ago = timezone.now() - timedelta(hours=24)
    counts = {
        "videos": Video.objects.count(),
        "waiting": Task.objects.filter(status=Task.Status.WAITING).count(),
        "processing": Task.objects.filter(status=Task.Status.PROCESSING).count(),
        "failed_24h": Task.objects.filter(result=Task.Result.FAIL, finished_at__gte=day_ago).count(),
    }
    recent = Task.objects.select_related("video").order_by("-created_at")[:10]
    return render(request, "console/overview.html", {"counts": counts, "recent": recent, "health": queue_health()})
