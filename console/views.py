"""The console's pages. Views stay thin: load, validate a form, call a service, redirect."""

from __future__ import annotations

from pathlib import PurePath

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from console.forms import UploadForm
from media_jobs import services
from media_jobs.models import Task, Video


@login_required
def home(request: HttpRequest) -> HttpResponse:
    videos = (Video.objects.select_related("cover_animated").annotate(n_images=Count("animated_images"))
              .order_by("-created_at"))
    page = Paginator(videos, 25).get_page(request.GET.get("page"))
    return render(request, "console/home.html", {"page": page, "form": UploadForm()})


@login_required
def upload(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload_file = form.cleaned_data["file"]
        title = form.cleaned_data["title"] or PurePath(upload_file.name or "video").stem
        video = services.create_video(upload_file, title, form.cleaned_data["workflow"], info=form.media_info)
        return redirect("console-video", public_id=video.public_id)
    return render(request, "console/upload.html", {"form": form}, status=400 if request.method == "POST" else 200)


@login_required
def video_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    video = get_object_or_404(Video, public_id=public_id)
    tasks = Task.objects.filter(video=video).prefetch_related("outputs")
    return render(request, "console/video.html", {"video": video, "tasks": tasks})
