"""File storage that never shows a half-written file under its final name."""

from __future__ import annotations

import os
import tempfile

from django.core import signing
from django.core.files import File
from django.core.files.storage import FileSystemStorage

# Media URLs carry a signature of their path: a URL Loopdeck hands out (API answers, event
# payloads, the console) opens the file, while knowing a video's id is not enough to fetch its
# original or cover. Checked by console.web.views.media; rotating SECRET_KEY revokes every URL.
SIGNATURE_PARAM = "sig"


def media_signature(name: str) -> str:
    return signing.Signer(salt="loopdeck.media").signature(name)


def valid_media_signature(name: str, signature: str) -> bool:
    return signing.constant_time_compare(media_signature(name), signature)


PARTIAL_PREFIX = ".partial-"


class AtomicFileSystemStorage(FileSystemStorage):
    """FileSystemStorage that writes to a temporary name in the target folder, then renames.

    Django's own storage writes chunks straight to the final name, so a worker killed mid-save
    would leave a partial image that the console links to. A rename within one folder is atomic.
    """

    def url(self, name: str | None) -> str:
        return f"{super().url(name)}?{SIGNATURE_PARAM}={media_signature(str(name))}"

    def _save(self, name: str, content: File) -> str:
        full_path = self.path(name)
        directory = os.path.dirname(full_path)
        os.makedirs(directory, exist_ok=True)
        # Named after the file it becomes, so the next writer of that name can clear a partial
        # left by a writer that was killed (remove_partials).
        fd, tmp_path = tempfile.mkstemp(prefix=f"{PARTIAL_PREFIX}{os.path.basename(full_path)}-", dir=directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                if hasattr(content, "temporary_file_path"):
                    with open(content.temporary_file_path(), "rb") as source:
                        while chunk := source.read(1024 * 1024):
                            handle.write(chunk)
                else:
                    for chunk in content.chunks():
                        handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            if self.file_permissions_mode is not None:
                os.chmod(tmp_path, self.file_permissions_mode)
            # get_available_name() picked a free name; if another writer took it since, pick again.
            while os.path.exists(full_path):
                name = self.get_available_name(name)
                full_path = self.path(name)
            os.replace(tmp_path, full_path)
        except BaseException:
            if os.path.exists(tmp_path):
                os.unlink(tmp_path)
            raise
        return str(name).replace("\\", "/")

    def remove_partials(self, name: str) -> int:
        """Delete temporary files a killed writer of `name` left behind. Only the holder of the
        name may call this (a render that has claimed its image). Returns how many."""
        full_path = self.path(name)
        directory, base = os.path.split(full_path)
        removed = 0
        try:
            entries = os.listdir(directory)
        except FileNotFoundError:
            return 0
        for entry in entries:
            if entry.startswith(f"{PARTIAL_PREFIX}{base}-"):
                try:
                    os.unlink(os.path.join(directory, entry))
                    removed += 1
                except FileNotFoundError:
                    pass
        return removed
