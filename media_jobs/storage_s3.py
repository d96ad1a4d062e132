"""Media in an S3-compatible bucket (AWS S3, Alibaba OSS, Tencent COS, MinIO, Ceph RGW, ...).

Chosen with STORAGE_BACKEND=s3 and configured by the S3_* variables (console.settings). Web
processes and workers then share nothing but the database, Redis and the bucket:

- Saves stream from the file they are given (an upload Django spooled to its temporary file, a
  finished render in a worker's scratch folder) with boto3's managed transfer: multipart above
  the threshold, a bounded number of chunks in memory, no second copy on disk.
- A file reaches its final key only when complete. What workers write (outputs, covers, URL
  imports) is uploaded under a temporary key next to it (`.partial-<name>-<token><ext>`), copied
  into place on the server, and the temporary key is deleted. A writer killed half-way leaves a
  temporary key or an unfinished multipart upload, never a partial object under the final name;
  the next holder of the name clears both (remove_partials), as media_jobs.storage does on disk.
  A client's upload (an UploadedFile) goes straight to its key: S3 shows a PUT, or a multipart
  upload, only once it is complete, and a server-side copy of a multi-gigabyte original would
  keep the uploader waiting as long again.
- Workers fetch a source into their own scratch space with ranged, parallel GETs (download_to).
- Links are pre-signed GET URLs that expire (S3_URL_EXPIRY) unless S3_PUBLIC_BASE_URL names a
  public origin (a CDN or a public-read bucket) for the media.
"""

from __future__ import annotations

import logging
import mimetypes
import os
import posixpath
import secrets
from typing import IO, Any

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from storages.backends.s3 import S3Storage
from storages.utils import ReadBytesWrapper, clean_name, is_seekable

from media_jobs.storage import PARTIAL_PREFIX

log = logging.getLogger(__name__)

MB = 1024 * 1024


def partial_name(name: str) -> str:
    """A temporary key beside `name`, keeping its extension so the stored content type is right."""
    directory, base = posixpath.split(name)
    extension = posixpath.splitext(base)[1]
    return posixpath.join(directory, f"{PARTIAL_PREFIX}{base}-{secrets.token_hex(8)}{extension}")


def local_path(content: File) -> str | None:
    """The path of the file on this machine's disk behind `content`, if there is one."""
    if hasattr(content, "temporary_file_path"):
        return content.temporary_file_path()
    name = getattr(getattr(content, "file", None), "name", None)
    return name if isinstance(name, str) and os.path.isfile(name) else None


class AtomicS3Storage(S3Storage):
    """S3Storage that never shows a partial object under a final key (see the module docstring)."""

    def get_default_settings(self) -> dict[str, Any]:
        return {
            **super().get_default_settings(),
            # Same naming as on disk: an existing name gets a suffix instead of being replaced.
            "file_overwrite": False,
            "multipart_threshold_mb": 16,
            "multipart_chunk_mb": 16,
            "transfer_concurrency": 4,
        }

    def __init__(self, **settings: Any):
        super().__init__(**settings)
        # Memory bound per transfer: concurrency x chunk size (64 MB with the defaults).
        self.transfer_config = TransferConfig(
            multipart_threshold=self.multipart_threshold_mb * MB,
            multipart_chunksize=self.multipart_chunk_mb * MB,
            max_concurrency=self.transfer_concurrency,
            use_threads=self.transfer_concurrency > 1,
        )
        # s3transfer's own knob (boto3's constructor does not take it): parts of a stream held at once.
        self.transfer_config.max_in_memory_upload_chunks = self.transfer_concurrency

    def get_object_parameters(self, name: str) -> dict[str, Any]:
        """The type comes from our name for the file, never from the uploader's Content-Type (a
        client could declare text/html). Only images open in the browser; anything else (an
        original, which may be an HTML polyglot under a video name) is a download, as
        console.web.views.media serves it from disk."""
        params = super().get_object_parameters(name)
        params["ContentType"] = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if not params["ContentType"].startswith("image/"):
            params.setdefault("ContentDisposition", "attachment")
        return params

    @property
    def _client(self) -> Any:
        return self.connection.meta.client

    def _save(self, name: str, content: File) -> str:
        final = clean_name(name)
        if isinstance(content, UploadedFile):
            self._upload(self._normalize_name(final), content)
            return final
        temporary_key = self._normalize_name(partial_name(final))
        self._upload(temporary_key, content)
        try:
            # A managed copy: server-side, multipart above the threshold (objects over 5 GB too).
            self._client.copy(
                {"Bucket": self.bucket_name, "Key": temporary_key}, self.bucket_name,
                self._normalize_name(final), Config=self.transfer_config,
            )
        finally:
            self._delete_temporary(temporary_key)
        return final

    def _upload(self, key: str, content: File) -> None:
        """From the file's path when it has one (an upload Django spooled, a finished render): each
        part is read from disk as it is sent. Otherwise from the stream, a few parts in memory."""
        params = self._get_write_parameters(key, content)
        path = local_path(content)
        if path is not None:
            self._client.upload_file(path, self.bucket_name, key, ExtraArgs=params, Config=self.transfer_config)
            return
        if is_seekable(content):
            content.seek(0)
        self._client.upload_fileobj(ReadBytesWrapper(content), self.bucket_name, key, ExtraArgs=params,
                                    Config=self.transfer_config)

    def _delete_temporary(self, key: str) -> None:
        # The file is in place (or the copy failed and that error is the one to report): a
        # temporary key that outlives this is cleared by the next writer of the name.
        try:
            self._client.delete_object(Bucket=self.bucket_name, Key=key)
        except ClientError as exc:
            log.warning("could not delete the temporary key %s: %s", key, exc)

    def download_to(self, name: str, target: IO[bytes]) -> None:
        """Write the object into `target` (a file in the caller's scratch space), in ranged chunks."""
        self._client.download_fileobj(self.bucket_name, self._normalize_name(clean_name(name)), target,
                                      Config=self.transfer_config)

    def remove_partials(self, name: str) -> int:
        """Delete the temporary keys and unfinished multipart uploads a killed writer of `name`
        left. Only the holder of the name may call this (a render that has claimed its image)."""
        directory, base = posixpath.split(clean_name(name))
        prefix = self._normalize_name(posixpath.join(directory, f"{PARTIAL_PREFIX}{base}-"))
        removed = 0
        pages = self._client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket_name, Prefix=prefix)
        for page in pages:
            for entry in page.get("Contents", []):
                self._client.delete_object(Bucket=self.bucket_name, Key=entry["Key"])
                removed += 1
        uploads = self._client.list_multipart_uploads(Bucket=self.bucket_name, Prefix=prefix)
        for upload in uploads.get("Uploads", []):
            try:
                self._client.abort_multipart_upload(Bucket=self.bucket_name, Key=upload["Key"],
                                                    UploadId=upload["UploadId"])
                removed += 1
            except ClientError:
                pass  # finished or aborted meanwhile
        return removed
