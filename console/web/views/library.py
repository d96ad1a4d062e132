"""The media library, uploads, and each video's pages (basic info, processing, animated images)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django.utils.translation import gettext as _

from console.web.forms import ProcessForm, RenameForm, UploadForm
from console.web.views.common import flash_error, paginate, query_without_page, show_error
from console.web.views.player import player_context
from media_jobs.commands import tasks as task_commands
from media_jobs.commands import videos as video_commands
from media_jobs.errors import LoopdeckError
from media_jobs.models import AnimatedImage, Task, Video, Workflow

@login_required
def library(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    status = request.GET.get("status", "")
    sort = request.GET.get("sort", "newest")
    page = paginate(request, Video.objects.select_related("cover_animated").library(q, status, sort))
    # One grouped query for the page, not a join over the whole library.
    ids = [v.pk for v in page.object_list]
    counts = {
        (video_id, status): n for video_id, status, n in
        AnimatedImage.objects.filter(video_id__in=ids, status__in=[AnimatedImage.Status.SUCCESS, AnimatedImage.Status.FAIL])
        .values_list("video_id", "status").annotate(n=Count("id")).values_list("video_id", "status", "n")
    }
    for video in page.object_list:
        video.n_images = counts.get((video.pk, AnimatedImage.Status.SUCCESS), 0)
        # A ready video with failed outputs is not plainly "Ready": the row says so.
        video.n_failed = counts.get((video.pk, AnimatedImage.Status.FAIL), 0)
    return render(request, "console/library.html", {
        "page": page, "q": q, "status": status, "sort": sort, "statuses": Video.Status.choices,
        "pager_query": query_without_page(request),
    })


@login_required
def upload(request: HttpRequest) -> HttpResponse:
    """One file per request: the page's script sends several files one after the other, each with
    its own progress bar, and shows each file's error beside it (JSON when asked for)."""
    wants_json = "application/json" in request.headers.get("Accept", "")
    form = UploadForm(request.POST if request.method == "POST" else None, request.FILES if request.method == "POST" else None)
    if request.method == "POST":
        if form.is_valid():
            upload_file = form.cleaned_data["file"]
            try:
                video = video_commands.create_video(upload_file, form.cleaned_data["title"],
                                                    form.cleaned_data["workflow"], info=form.media_info)
            except LoopdeckError as exc:
                show_error(form, exc)
                if wants_json:
                    return JsonResponse({"errors": {k: [str(e) for e in v] for k, v in form.errors.items()}}, status=400)
                return render(request, "console/upload.html", {"form": form, "workflows": Workflow.objects.all()},
                              status=400)
            url = reverse("console-video", args=[video.public_id])
            if wants_json:
                return JsonResponse({"id": str(video.public_id), "title": video.title, "url": url}, status=201)
            messages.success(request, _("Uploaded “%(title)s”.") % {"title": video.title})
            return redirect(url)
        if wants_json:
            return JsonResponse({"errors": {k: [str(e) for e in v] for k, v in form.errors.items()}}, status=400)
    return render(request, "console/upload.html", {"form": form, "workflows": Workflow.objects.all()},
                  status=400 if request.method == "POST" else 200)


def _video(public_id: str) -> Video:
    return get_object_or_404(Video.objects.select_related("cover_animated", "workflow"), public_id=public_id)


@login_required
def video_info(request: HttpRequest, public_id: str) -> HttpResponse:
    video = _video(public_id)
    return render(request, "console/video_info.html", {
        "video": video, "tab": "info", "info": video.media_info, "rename_form": RenameForm(initial={"title": video.title}),
        **player_context(video),
    })


@login_required
def video_processing(request: HttpRequest, public_id: str) -> HttpResponse:
    video = _video(public_id)
    # The Basic info tab's player sends ?start=&end= for the range picked there.
    form = ProcessForm(request.POST if request.method == "POST" else None, video=video,
                       initial={"start_time_offset": request.GET.get("start"), "end_time_offset": request.GET.get("end")})
    if request.method == "POST" and form.is_valid():
        workflow = form.cleaned_data.get("workflow")
        try:
            task_commands.submit_task(video, form.steps, origin=Task.Origin.CONSOLE, workflow=workflow,
                                      field="workflow" if workflow else "templates")
        except LoopdeckError as exc:
            show_error(form, exc)
        else:
            messages.success(request, _("Processing started."))
            return redirect("console-video-processing", public_id=video.public_id)
    tasks = Task.objects.filter(video=video).prefetch_related("outputs").order_by("-created_at")
    return render(request, "console/video_processing.html", {
        "video": video, "tab": "processing", "form": form, "tasks": tasks,
        "presets": form.fields["templates"].queryset.filter(kind="Preset"),
        "customs": form.fields["templates"].queryset.filter(kind="Custom"),
        "selected": {str(v) for v in (form["templates"].value() or [])},
        **player_context(video), "offsets_form_id": "process-form",
    }, status=400 if request.method == "POST" else 200)


@login_required
def video_images(request: HttpRequest, public_id: str) -> HttpResponse:
    video = _video(public_id)
    images = list(AnimatedImage.objects.filter(video=video, status=AnimatedImage.Status.SUCCESS)
                  .order_by("-finished_at"))
    gifs = {(i.start_offset, i.end_offset, i.width, i.height): i for i in images if i.container == "gif"}
    for image in images:
        # A WebP with a GIF of the same moment and size gets a <picture> with the GIF as fallback.
        image.gif_fallback = gifs.get((image.start_offset, image.end_offset, image.width, image.height)) \
            if image.container == "webp" else None
    return render(request, "console/video_images.html", {"video": video, "tab": "images", "images": images})


@login_required
def video_status(request: HttpRequest, public_id: str) -> JsonResponse:
    """What the processing tab polls to move its progress bars without a reload."""
    video = _video(public_id)
    tasks = Task.objects.filter(video=video).prefetch_related("outputs").order_by("-created_at")[:50]
    return JsonResponse({
        "video": {"status": video.status, "error_code": video.error_code},
        "tasks": [{
            "task_id": str(t.task_id), "status": t.status, "result": t.result,
            "error_code": t.error_code, "error_message": t.error_message,
            "outputs": [{"id": str(o.public_id), "status": o.status, "progress": o.progress,
                         "error_code": o.error_code, "error_message": o.error_message} for o in t.outputs.all()],
        } for t in tasks],
    })


@login_required
@require_POST
def video_rename(request: HttpRequest, public_id: str) -> HttpResponse:
    video = _video(public_id)
    try:
        video_commands.rename_video(video, request.POST.get("title", ""))
    except LoopdeckError as exc:
        flash_error(request, exc, "Not renamed: ")
    else:
        messages.success(request, _("Renamed."))
    return redirect("console-video", public_id=video.public_id)


@login_required
def video_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    video = _video(public_id)
    if request.method == "POST":
        title = video.title
        video_commands.delete_video(video)
        messages.success(request, _("Deleted “%(title)s” and its animated images.") % {"title": title})
        return redirect("console-library")
    return render(request, "console/confirm_delete.html", {
        "what": _("the video “%(title)s”") % {"title": video.title},
        "consequence": _("Its original file and its %(n)s animated images are deleted too.") % {"n": video.animated_images.count()},
        "cancel_url": reverse("console-video", args=[video.public_id]),
    })


def _image(public_id: str) -> AnimatedImage:
    return get_object_or_404(AnimatedImage.objects.select_related("video", "task"), public_id=public_id)


@login_required
@require_POST
def image_cover(request: HttpRequest, public_id: str) -> HttpResponse:
    image = _image(public_id)
    try:
        video_commands.set_cover(image.video, image)
    except LoopdeckError as exc:
        flash_error(request, exc, "Cover not set: ")
    else:
        messages.success(request, _("Cover set."))
    return redirect("console-video-images", public_id=image.video.public_id)


@login_required
@require_POST
def image_retry(request: HttpRequest, public_id: str) -> HttpResponse:
    image = _image(public_id)
    try:
        task_commands.retry_image(image)
    except LoopdeckError as exc:
        flash_error(request, exc)
    else:
        messages.success(request, _("Retrying %(name)s.") % {"name": image.template_name})
    return redirect(request.POST.get("next") or reverse("console-video-processing", args=[image.video.public_id]))


@login_required
def image_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    image = _image(public_id)
    back = reverse("console-video-images", args=[image.video.public_id])
    if request.method == "POST":
        try:
            task_commands.delete_animated_image(image)
        except LoopdeckError as exc:
            flash_error(request, exc, "Not deleted: ")
        else:
            messages.success(request, _("Animated image deleted."))
        return redirect(back)
    return render(request, "console/confirm_delete.html", {
        "what": _("the animated image “%(name)s” (%(format)s, %(w)s×%(h)s)") % {
            "name": image.template_name, "format": image.container, "w": image.width, "h": image.height},
        "consequence": _("Links and embeds that use its URL stop working.") + (
            " " + _("It is the video's cover; the still cover takes its place.")
            if image.video.cover_animated_id == image.pk else ""),
        "cancel_url": back,
    })
