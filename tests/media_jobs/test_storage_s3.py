"""Media in an S3-compatible bucket, against a real S3 HTTP server (moto in server mode)."""

from __future__ import annotations

import io
import os
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import TemporaryUploadedFile
from PIL import Image, ImageSequence

from console.env import SettingError
from console.storage_env import storage_from_env
from media_jobs.commands import tasks as task_commands
from media_jobs.commands import videos as video_commands
from media_jobs.jobs import source_cache
from media_jobs.models import AnimatedImage, AnimatedImageTemplate, Video
from tests.s3server import S3Server, moto_server


@pytest.fixture(scope="session")
def s3() -> S3Server:
    with moto_server() as server:
        yield server


@pytest.fixture
def bucket(s3: S3Server, settings, tmp_path: Path) -> str:
    """A fresh private bucket as the default storage, and a scratch folder of the test's own."""
    name = s3.create_bucket(f"loopdeck-{uuid.uuid4().hex[:12]}")
    settings.STORAGES = {**settings.STORAGES, "default": s3.storage_options(name)}
    settings.SCRATCH_DIR = tmp_path / "scratch"
    return name


def test_a_large_file_reaches_its_key_whole_in_parts_and_leaves_no_temporary_key(s3, bucket):
    storage = default_storage
    assert storage.transfer_config.multipart_threshold == 16 * 1024 * 1024
    storage.transfer_config.multipart_threshold = storage.transfer_config.multipart_chunksize = 5 * 1024 * 1024
    payload = os.urandom(12 * 1024 * 1024 + 17)  # three parts
    name = storage.save("videos/x/original.mp4", ContentFile(payload))
    assert name == "videos/x/original.mp4"
    assert s3.keys(bucket) == [name]
    assert s3.unfinished_uploads(bucket) == []
    head = s3.client().head_object(Bucket=bucket, Key=name)
    assert head["ContentType"] == "video/mp4" and head["ContentLength"] == len(payload)
    assert "-" in head["ETag"]  # a multipart ETag: the parts were streamed, not sent in one body
    with storage.open(name, "rb") as handle:
        assert handle.read() == payload
    # Like the local disk, a taken name is never replaced.
    assert storage.save("videos/x/original.mp4", ContentFile(b"other")) != name


def test_a_spooled_client_upload_streams_from_its_spool_file_in_parts(s3, bucket):
    storage = default_storage
    storage.transfer_config.multipart_threshold = storage.transfer_config.multipart_chunksize = 5 * 1024 * 1024
    payload = os.urandom(11 * 1024 * 1024)
    # The uploader's declared type is not trusted: the stored type comes from our name for it.
    upload = TemporaryUploadedFile("clip.mp4", "text/html", len(payload), None)
    upload.write(payload)
    upload.flush()
    name = storage.save("videos/y/original.mp4", upload)
    upload.close()
    head = s3.client().head_object(Bucket=bucket, Key=name)
    assert head["ETag"].endswith('-3"') and head["ContentLength"] == len(payload)
    assert (head["ContentType"], head["ContentDisposition"]) == ("video/mp4", "attachment")
    assert s3.keys(bucket) == [name] and s3.unfinished_uploads(bucket) == []


def test_private_media_links_are_presigned_and_expire(s3, bucket):
    name = default_storage.save("videos/x/animated/y.gif", ContentFile(b"GIF89a..."))
    url = default_storage.url(name)
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(f"{s3.url}/{bucket}/videos/x/animated/y.gif?")
    assert query["X-Amz-Expires"] == ["3600"] and query["X-Amz-Signature"]
    with urllib.request.urlopen(url, timeout=5) as answer:
        assert answer.read() == b"GIF89a..." and answer.headers["Content-Type"] == "image/gif"
        assert answer.headers["Content-Disposition"] is None  # our images open inline


def test_a_public_base_url_gives_plain_lasting_links(monkeypatch):
    monkeypatch.setenv("STORAGE_BACKEND", "s3")
    monkeypatch.setenv("S3_BUCKET", "media")
    monkeypatch.setenv("S3_PUBLIC_BASE_URL", "https://cdn.example.com/loopdeck/")
    options = storage_from_env()["OPTIONS"]
    assert (options["custom_domain"], options["url_protocol"]) == ("cdn.example.com/loopdeck", "https:")
    assert options["querystring_auth"] is False
    from media_jobs.storage_s3 import AtomicS3Storage

    assert AtomicS3Storage(**options).url("videos/a b.gif") == "https://cdn.example.com/loopdeck/videos/a%20b.gif"


@pytest.mark.parametrize(("name", "value", "message"), [
    ("S3_BUCKET", "", "S3_BUCKET is required"),
    ("S3_ADDRESSING_STYLE", "sideways", "S3_ADDRESSING_STYLE='sideways' is not one of auto, path, virtual"),
    ("S3_ENDPOINT_URL", "ftp://x", "S3_ENDPOINT_URL='ftp://x' is not an http"),
    ("S3_URL_EXPIRY", "999999999", "S3_URL_EXPIRY=999999999 is above the maximum 604800"),
])
def test_a_bad_object_storage_setting_stops_start_up_with_its_name(monkeypatch, name, value, message):
    monkeypatch.setenv("STORAGE_BACKEND", "s3")
    monkeypatch.setenv("S3_BUCKET", "media")
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingError, match=message):
        storage_from_env()


def test_the_next_writer_removes_what_a_killed_writer_left(s3, bucket):
    client = s3.client()
    name = "videos/v/animated/i.webp"
    client.put_object(Bucket=bucket, Key="videos/v/animated/.partial-i.webp-0123abcd.webp", Body=b"half")
    client.create_multipart_upload(Bucket=bucket, Key="videos/v/animated/.partial-i.webp-4567cdef.webp")
    other = "videos/v/animated/.partial-j.webp-89abcdef.webp"  # another image's writer: not ours to touch
    client.put_object(Bucket=bucket, Key=other, Body=b"busy")
    assert default_storage.remove_partials(name) == 2
    assert s3.keys(bucket) == [other] and s3.unfinished_uploads(bucket) == []


@pytest.mark.django_db(transaction=True)
def test_a_video_rendered_through_the_bucket_leaves_nothing_on_local_disk(s3, bucket, small_clip, run_worker,
                                                                          media_root, settings):
    with small_clip.open("rb") as handle:
        video = video_commands.create_video(File(handle, name="clip.mp4"), "clip")
    run_worker()
    video.refresh_from_db()
    assert video.status == Video.Status.READY, video.error_message
    template = AnimatedImageTemplate.objects.create(name="s3 webp", format="webp", width=96, fps=8, duration=1)
    task = task_commands.submit_task(video, [task_commands.StepRequest(template)])
    run_worker()
    image = task.outputs.get()
    assert image.status == AnimatedImage.Status.SUCCESS, image.error_message
    keys = s3.keys(bucket)
    # The original, the cover, the player's strip of thumbnails and the output.
    assert video.strip["name"].endswith("/strip.jpg")
    assert sorted(keys) == sorted([video.file.name, video.cover_image.name, video.strip["name"], image.file.name])
    assert not any("/.partial-" in key for key in keys)
    body = s3.client().get_object(Bucket=bucket, Key=image.file.name)["Body"].read()
    with Image.open(io.BytesIO(body)) as picture:
        assert sum(1 for _ in ImageSequence.Iterator(picture)) == image.frames == 8
    # The links handed out are the bucket's, signed; nothing went to MEDIA_ROOT, and the scratch
    # space holds only the worker's cached copy of the source (for the video's next render).
    assert image.file.url.startswith(f"{s3.url}/{bucket}/") and "X-Amz-Signature=" in image.file.url
    assert list(media_root.rglob("*")) == []
    scratch = Path(settings.SCRATCH_DIR)
    assert [p.relative_to(scratch).parts[0] for p in scratch.rglob("*") if p.is_file()] == [source_cache.FOLDER]
    (cached,) = (scratch / source_cache.FOLDER).iterdir()
    assert cached.read_bytes() == small_clip.read_bytes()
