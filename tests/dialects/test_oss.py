"""The OSS-style endpoint through the oss2 SDK (V4 and V1 signatures) against a live Loopdeck: the
seed's two examples unchanged apart from the endpoint, the saved objects' frames, size and timing."""

from __future__ import annotations

import base64
import io
import time

import oss2
import pytest
from PIL import Image, ImageSequence

from console.api.models import OssObject
from media_jobs.models import Subscription
from tests.dialects.conftest import drain_until

pytestmark = pytest.mark.django_db(transaction=True)


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def bucket(endpoint: str, key: tuple[str, str], name: str = "examplebucket", v4: bool = True) -> oss2.Bucket:
    if v4:
        auth = oss2.AuthV4(*key)
        return oss2.Bucket(auth, f"http://{endpoint}", name, region="cn-hangzhou")
    return oss2.Bucket(oss2.Auth(*key), f"http://{endpoint}", name)


def frames_of(data: bytes) -> tuple[Image.Image, list[int]]:
    image = Image.open(io.BytesIO(data))
    durations = []
    for frame in ImageSequence.Iterator(image):
        frame.load()  # Pillow's WebP reader fills in the delay only once the frame is loaded
        durations.append(frame.info.get("duration", 0))
    return image, durations


def wait_for(run_worker, source: oss2.Bucket, key: str) -> bytes:  # noqa: ANN001
    def there() -> bool:
        return source.object_exists(key)

    drain_until(run_worker, there)
    return source.get_object(key).read()


@pytest.mark.parametrize("v4", [True, False], ids=["V4", "V1"])
def test_the_seeds_gif_example_one_frame_a_second(endpoint, access_key, long_clip, run_worker, v4) -> None:  # noqa: ANN001
    src = bucket(endpoint, access_key, v4=v4)
    put = src.put_object_from_file("src.mp4", str(long_clip))
    assert put.status == 200 and put.etag
    assert src.head_object("src.mp4").content_length == long_clip.stat().st_size

    target_key = "example.gif"
    process = f"video/animation,f_gif,w_100,h_100,inter_1000|sys/saveas,b_{b64('examplebucket')},o_{b64(target_key)}/notify,topic_QXVkaW9Db252ZXJ0"
    result = src.async_process_object("src.mp4", process)
    assert result.task_id and result.event_id and result.async_request_id
    data = wait_for(run_worker, src, target_key)
    image, durations = frames_of(data)
    # A 20 s source, one frame a second, 100x100 (stretched, as OSS does by default).
    assert (image.format, image.size, len(durations)) == ("GIF", (100, 100), 20)
    assert set(durations) == {1000}


def test_the_seeds_webp_example_quarter_size_from_5_s_every_half_second(endpoint, access_key, long_clip,
                                                                        run_worker, live_server) -> None:  # noqa: ANN001
    Subscription.objects.create(name="AudioConvert", url=f"{live_server.url}/nowhere", on_task_finish=False)
    src = bucket(endpoint, access_key)
    src.put_object_from_file("example.mkv", str(long_clip))
    process = (f"video/animation,ss_5000,f_webp,pw_25,ph_25,fps_25,inter_500|sys/saveas,b_{b64('outbucket')},"
               f"o_{b64('outobjprefix.{autoext}')}/notify,topic_QXVkaW9Db252ZXJ0")
    src.async_process_object("example.mkv", process)
    out = bucket(endpoint, access_key, "outbucket")
    data = wait_for(run_worker, out, "outobjprefix.webp")
    image, durations = frames_of(data)
    # 640x360 at 25 %: 160x90; 5 s .. 20 s every 0.5 s: 30 frames, played at 25 fps (40 ms each).
    assert (image.format, image.size, len(durations)) == ("WEBP", (160, 90), 30)
    assert set(durations) == {40}
    # notify: the subscription named by the topic gets the task-finished event.
    subscription = Subscription.objects.get(name="AudioConvert")
    assert subscription.deliveries.filter(event__event_type="ProcedureStateChanged").count() == 1


def test_bad_strings_sync_processing_and_signatures_are_refused(endpoint, access_key, small_clip) -> None:  # noqa: ANN001
    src = bucket(endpoint, access_key)
    src.put_object_from_file("clip.mp4", str(small_clip))
    for process, words in [("video/animation,w_100|sys/saveas,o_" + b64("x.gif"), "f:"),
                           ("video/animation,f_gif,speed_2|sys/saveas,o_" + b64("x.gif"), "speed:"),
                           ("video/animation,f_gif,w_9000|sys/saveas,o_" + b64("x.gif"), "w:")]:
        with pytest.raises(oss2.exceptions.ServerError) as excinfo:
            src.async_process_object("clip.mp4", process)
        assert (excinfo.value.status, excinfo.value.code) == (400, "InvalidArgument")
        assert words in excinfo.value.message
    with pytest.raises(oss2.exceptions.ServerError) as sync:
        src.get_object("clip.mp4", process="video/animation,f_gif,w_100")
    assert sync.value.status == 400 and "x-oss-async-process" in sync.value.message
    with pytest.raises(oss2.exceptions.NoSuchKey):
        src.get_object("missing.mp4")
    with pytest.raises(oss2.exceptions.ServerError) as wrong:
        bucket(endpoint, (access_key[0], "wrong")).get_object("clip.mp4")
    assert (wrong.value.status, wrong.value.code) == (403, "SignatureDoesNotMatch")
    with pytest.raises(oss2.exceptions.ServerError) as unknown:
        bucket(endpoint, ("LTAInobody", "x"), v4=False).get_object("clip.mp4")
    assert (unknown.value.status, unknown.value.code) == (403, "InvalidAccessKeyId")
    with pytest.raises(oss2.exceptions.ServerError) as not_video:
        src.put_object("notes.mp4", b"not a video at all")
    assert not_video.value.status == 400
    src.delete_object("clip.mp4")
    assert not src.object_exists("clip.mp4") and not OssObject.objects.exists()


def test_virtual_host_style_when_the_oss_host_is_configured(endpoint, access_key, small_clip, settings,
                                                            monkeypatch) -> None:  # noqa: ANN001
    """`<bucket>.<LOOPDECK_OSS_HOST>`: oss2's default addressing for a named endpoint. The names
    resolve to 127.0.0.1 in this process only (no DNS here)."""
    import socket

    settings.OSS_HOST = "oss.test"
    real = socket.getaddrinfo

    def resolve(host, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        return real("127.0.0.1" if str(host).endswith("oss.test") else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    port = endpoint.split(":")[1]
    named = oss2.Bucket(oss2.AuthV4(*access_key), f"http://oss.test:{port}", "vhbucket", region="cn-hangzhou")
    named.put_object_from_file("clips/a.mp4", str(small_clip))
    assert OssObject.objects.filter(bucket="vhbucket", key="clips/a.mp4").exists()
    assert named.get_object("clips/a.mp4").read() == small_clip.read_bytes()
    # The same object by path style, with any host.
    assert bucket(endpoint, access_key, "vhbucket").object_exists("clips/a.mp4")
