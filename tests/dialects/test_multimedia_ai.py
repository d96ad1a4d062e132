"""Alibaba Multimedia AI 2019-08-10 through aliyun-python-sdk-multimediaai: CreateGifTask from a
URL, then GetTaskStatus / GetTaskResult until the GIF is there."""

from __future__ import annotations

import functools
import json
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest
from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkcore.client import AcsClient
from aliyunsdkmultimediaai.request.v20190810 import CreateGifTaskRequest, GetTaskResultRequest, GetTaskStatusRequest

from tests.dialects.conftest import drain_until, fetch_frames

pytestmark = pytest.mark.django_db(transaction=True)


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # noqa: ANN002
        pass


@pytest.fixture
def video_url(small_clip: Path, settings) -> Iterator[str]:  # noqa: ANN001
    settings.ALLOW_PRIVATE_ADDRESSES = True  # the "remote" file is on 127.0.0.1
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(small_clip.parent)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/{small_clip.name}"
    httpd.shutdown()
    httpd.server_close()


def client(endpoint: str, key: tuple[str, str]) -> AcsClient:
    acs = AcsClient(key[0], key[1], "cn-shanghai")
    acs.add_endpoint("cn-shanghai", "multimediaai", endpoint)
    return acs


def call(acs: AcsClient, request_class, **params) -> dict:  # noqa: ANN001
    request = request_class()
    for name, value in params.items():
        getattr(request, f"set_{name}")(value)
    return json.loads(acs.do_action_with_exception(request))


def test_a_gif_task_from_a_url_reports_its_status_and_result(endpoint, access_key, video_url, run_worker) -> None:  # noqa: ANN001
    acs = client(endpoint, access_key)
    created = call(acs, CreateGifTaskRequest.CreateGifTaskRequest, ApplicationId="app-1", VideoName="from a url",
                   VideoUrl=video_url)
    task_id = created["TaskId"]
    assert isinstance(task_id, int) and created["Code"] == "OK"
    assert call(acs, GetTaskStatusRequest.GetTaskStatusRequest, TaskId=task_id)["Status"] == 0  # submitting

    drain_until(run_worker, lambda: call(acs, GetTaskStatusRequest.GetTaskStatusRequest, TaskId=task_id)["Status"] >= 2)
    result = call(acs, GetTaskResultRequest.GetTaskResultRequest, TaskId=task_id)
    assert result["Status"] == 2, result
    picture, frames, durations, data = fetch_frames(result["Result"]["GifUrl"])
    assert picture.format == "GIF" and len(frames) > 1
    assert (result["Result"]["Width"], result["Result"]["Height"], result["Result"]["FileSize"]) == \
        (*picture.size, len(data))


def test_the_seeds_error_table(endpoint, access_key, video_url) -> None:  # noqa: ANN001
    acs = client(endpoint, access_key)
    with pytest.raises(ServerException) as missing:
        call(acs, CreateGifTaskRequest.CreateGifTaskRequest, ApplicationId="app-1", VideoUrl=video_url)
    assert (missing.value.get_error_code(), missing.value.get_http_status()) == ("MissingParameter", 400)
    assert missing.value.get_error_msg().startswith("You must specify the parameter VideoName.")
    with pytest.raises(ServerException) as unknown:
        call(acs, GetTaskStatusRequest.GetTaskStatusRequest, TaskId=424242)
    assert (unknown.value.get_error_code(), unknown.value.get_http_status()) == ("ResourceNotFound", 404)
    with pytest.raises(ServerException) as bad:
        call(acs, CreateGifTaskRequest.CreateGifTaskRequest, ApplicationId="app-1", VideoName="x",
             VideoUrl="ftp://example.com/a.mp4")
    assert (bad.value.get_error_code(), bad.value.get_http_status()) == ("InvalidParameter", 400)
