"""Console forms. Uploads are probed while the form validates, so a file that is not a usable
video is a form error beside the field, never a failed job."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from media_jobs.encode import EncodeError, MediaInfo, probe_isolated
from media_jobs.models import Workflow


def probe_upload(upload: UploadedFile) -> MediaInfo:
    """Probe an uploaded file where it lies (Django spools large uploads to a temporary file)."""
    if hasattr(upload, "temporary_file_path"):
        return probe_isolated(upload.temporary_file_path(), timeout=settings.PROBE_TIMEOUT)
    with tempfile.NamedTemporaryFile(suffix=Path(upload.name or "").suffix[:8]) as tmp:
        for chunk in upload.chunks():
            tmp.write(chunk)
        tmp.flush()
        upload.seek(0)
        return probe_isolated(tmp.name, timeout=settings.PROBE_TIMEOUT)


class UploadForm(forms.Form):
    file = forms.FileField(label="Video file")
    title = forms.CharField(max_length=255, required=False, help_text="Defaults to the file name.")
    workflow = forms.ModelChoiceField(
        queryset=Workflow.objects.all(), required=False, empty_label="No processing",
        label="Process video during upload",
    )

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        if upload.size and upload.size > settings.MAX_UPLOAD_SIZE:
            raise forms.ValidationError(
                f"The file is larger than the {settings.MAX_UPLOAD_SIZE // (1024 * 1024)} MB limit.",
                code="FileTooLarge",
            )
        try:
            self.media_info = probe_upload(upload)
        except EncodeError as exc:
            raise forms.ValidationError(f"{exc.code}: {exc.message}", code=str(exc.code)) from exc
        return upload

    def clean_title(self) -> str:
        return self.cleaned_data["title"].strip()
