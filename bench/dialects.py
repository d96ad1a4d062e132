"""Vendor dialect throughput: `python -m bench.dialects [--calls 300]`

Signed Tencent `ProcessMedia` calls, made one after another by tencentcloud-sdk-python-vod (TC3-
HMAC-SHA256) against Loopdeck served over real HTTP on 127.0.0.1 (a threaded WSGI server in this
process, SQLite in a temporary folder, Redis database 12, flushed after). Prints requests per
second and the share of the server's time spent verifying signatures (key lookup and decryption
included). Each call creates a task and queues its render; no worker runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args) -> None:  # noqa: ANN002
        pass


class _Threaded(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="loopdeck-bench-dialects-"))
    os.environ.update(LOOPDECK_DATA_DIR=str(folder), DJANGO_SETTINGS_MODULE="console.settings",
                      REDIS_URL=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12"),
                      API_RATE_LIMIT="0", ALLOWED_HOSTS="*", LOG_LEVEL="WARNING")
    import django

    django.setup()
    from django.core.files import File
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application
    from tencentcloud.common import credential
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile
    from tencentcloud.vod.v20180717 import models, vod_client

    from console.dialects import keys, signatures
    from media_jobs.commands import videos as video_commands
    from media_jobs.jobs import queues
    from media_jobs.jobs.prepare import prepare_video
    from tests.clips import make_clip

    call_command("migrate", verbosity=0)
    clip = make_clip(folder / "clip.mp4", seconds=3.0, fps=30)
    with clip.open("rb") as handle:
        video = video_commands.create_video(File(handle, name="clip.mp4"), "bench")
    prepare_video(video.pk)
    key, secret = keys.create_access_key("bench")

    spent: list[float] = []
    real_verify = signatures.tencent_tc3

    def timed_verify(request):  # noqa: ANN001, ANN202
        start = time.perf_counter()
        try:
            return real_verify(request)
        finally:
            spent.append(time.perf_counter() - start)

    signatures.tencent_tc3 = timed_verify
    server = make_server("127.0.0.1", 0, get_wsgi_application(), server_class=_Threaded, handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    profile = ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint=f"127.0.0.1:{server.server_port}"))
    vod = vod_client.VodClient(credential.Credential(key.key_id, secret), "", profile)
    create = models.CreateAnimatedGraphicsTemplateRequest()
    create.from_json_string('{"Format": "gif", "Width": 160, "Fps": 8, "Name": "bench"}')
    definition = vod.CreateAnimatedGraphicsTemplate(create).Definition

    def process(index: int) -> float:
        request = models.ProcessMediaRequest()
        request.from_json_string(
            f'{{"FileId": "{video.public_id}", "SessionId": "bench-{index}", "MediaProcessTask": '
            f'{{"AnimatedGraphicTaskSet": [{{"Definition": {definition}, "StartTimeOffset": 0, "EndTimeOffset": 1}}]}}}}')
        start = time.perf_counter()
        vod.ProcessMedia(request)
        return time.perf_counter() - start

    for index in range(20):  # warm-up: connections, caches
        process(-index - 1)
    spent.clear()
    latencies = []
    start = time.perf_counter()
    for index in range(args.calls):
        latencies.append(process(index))
    wall = time.perf_counter() - start
    server.shutdown()
    queues.get_queue(queues.LIGHT).connection.flushdb()

    print(f"signed ProcessMedia, {args.calls} calls in sequence over HTTP on 127.0.0.1 (TC3-HMAC-SHA256)")
    print(f"  throughput        {args.calls / wall:7.1f} requests/s")
    print(f"  latency median    {statistics.median(latencies) * 1000:7.2f} ms   p95 "
          f"{sorted(latencies)[int(0.95 * len(latencies))] * 1000:.2f} ms")
    print(f"  signature check   {statistics.mean(spent) * 1000:7.2f} ms per call = "
          f"{100 * sum(spent) / sum(latencies):.1f} % of the client-side latency")


if __name__ == "__main__":
    main()
