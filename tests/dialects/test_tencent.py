"""Tencent VOD 2018-07-17 through tencentcloud-sdk-python-vod, only the endpoint changed."""

from __future__ import annotations

import base64
import json
import time

import pytest
import requests
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.vod.v20180717 import models, vod_client

from console.api.models import ApiAction
from tests.dialects.conftest import drain_until, fetch_frames

pytestmark = pytest.mark.django_db(transaction=True)


def client(endpoint: str, key: tuple[str, str], sign_method: str | None = None) -> vod_client.VodClient:
    profile = ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint=endpoint))
    if sign_method:
        profile.signMethod = sign_method
    return vod_client.VodClient(credential.Credential(*key), "", profile)


def call(vod: vod_client.VodClient, action: str, params: dict):
    request = getattr(models, f"{action}Request")()
    request.from_json_string(json.dumps(params))
    return getattr(vod, action)(request)


def refused(vod: vod_client.VodClient, action: str, params: dict) -> TencentCloudSDKException:
    with pytest.raises(TencentCloudSDKException) as excinfo:
        call(vod, action, params)
    return excinfo.value


def test_the_whole_flow_template_process_poll_cover_delete(endpoint, access_key, ready_video, run_worker) -> None:  # noqa: ANN001
    vod = client(endpoint, access_key)
    created = call(vod, "CreateAnimatedGraphicsTemplate",
                   {"Format": "gif", "Width": 160, "Height": 0, "Fps": 8, "Quality": 75.0,
                    "ResolutionAdaptive": "open", "Name": "sdk gif 动图", "Comment": "from the SDK"})
    definition = created.Definition
    listed = call(vod, "DescribeAnimatedGraphicsTemplates", {"Definitions": [definition], "Type": "Custom"})
    assert listed.TotalCount == 1
    info = listed.AnimatedGraphicsTemplateSet[0]
    assert (info.Name, info.Format, info.Width, info.Fps, info.ResolutionAdaptive) == \
        ("sdk gif 动图", "gif", 160, 8, "open")
    call(vod, "ModifyAnimatedGraphicsTemplate", {"Definition": definition, "Fps": 10})
    assert call(vod, "DescribeAnimatedGraphicsTemplates", {"Definitions": [definition]}).AnimatedGraphicsTemplateSet[0].Fps == 10

    task_set = {"AnimatedGraphicTaskSet": [{"Definition": definition, "StartTimeOffset": 0.5, "EndTimeOffset": 1.5}]}
    first = call(vod, "ProcessMedia", {"FileId": ready_video, "MediaProcessTask": task_set,
                                       "SessionContext": "order-42", "SessionId": "sess-1"})
    again = call(vod, "ProcessMedia", {"FileId": ready_video, "MediaProcessTask": task_set, "SessionId": "sess-1"})
    assert again.TaskId == first.TaskId  # the SessionId de-duplicates

    def finished() -> bool:
        return call(vod, "DescribeTaskDetail", {"TaskId": first.TaskId}).Status == "FINISH"

    drain_until(run_worker, finished)
    detail = call(vod, "DescribeTaskDetail", {"TaskId": first.TaskId})
    assert detail.TaskType == "Procedure" and detail.ProcedureTask.SessionContext == "order-42"
    result = detail.ProcedureTask.MediaProcessResultSet[0].AnimatedGraphicTask
    assert result.Status == "SUCCESS" and result.ErrCode == 0
    image, frames, durations, data = fetch_frames(result.Output.Url)
    # 10 fps over 0.5 s .. 1.5 s of a 320x240 clip, 160 px wide: 10 frames of 100 ms.
    assert (image.format, image.size, len(frames)) == ("GIF", (160, 120), 10)
    assert sum(durations) == 1000
    assert (result.Output.Width, result.Output.Height, result.Output.Size) == (160, 120, len(data))

    tasks = call(vod, "DescribeTasks", {"FileId": ready_video, "Limit": 10})
    assert [t.TaskId for t in tasks.TaskSet] == [first.TaskId]
    media = call(vod, "DescribeMediaInfos", {"FileIds": [ready_video], "Filters": ["basicInfo", "animatedGraphicsInfo"]})
    assert media.MediaInfoSet[0].BasicInfo.Name == "sdk clip"
    assert [g.Url for g in media.MediaInfoSet[0].AnimatedGraphicsInfo.AnimatedGraphicsSet] == [result.Output.Url]

    cover = call(vod, "ModifyMediaInfo", {"FileId": ready_video, "CoverData": base64.b64encode(data).decode()})
    assert cover.CoverUrl.split("?")[0] == result.Output.Url.split("?")[0]
    assert ApiAction.objects.filter(access_key__key_id=access_key[0], object_type="video").exists()

    call(vod, "DeleteMedia", {"FileId": ready_video})
    gone = call(vod, "DescribeMediaInfos", {"FileIds": [ready_video]})
    assert gone.NotExistFileIdSet == [ready_video] and not gone.MediaInfoSet
    call(vod, "DeleteAnimatedGraphicsTemplate", {"Definition": definition})
    assert call(vod, "DescribeAnimatedGraphicsTemplates", {"Definitions": [definition]}).TotalCount == 0


def test_errors_come_back_as_the_sdks_exception_with_tencents_codes(endpoint, access_key, ready_video) -> None:  # noqa: ANN001
    vod = client(endpoint, access_key)
    assert refused(vod, "CreateAnimatedGraphicsTemplate", {"Format": "gif", "Width": 5000, "Name": "huge"}).code \
        == "InvalidParameterValue.Width"
    assert refused(vod, "CreateAnimatedGraphicsTemplate", {"Width": 100, "Name": "no format"}).code \
        == "MissingParameter"
    missing = refused(vod, "ProcessMedia", {"FileId": "5285485487985271487", "MediaProcessTask": {
        "AnimatedGraphicTaskSet": [{"Definition": 20000}]}})
    assert missing.code == "ResourceNotFound.FileNotExist" and missing.requestId
    assert refused(vod, "ProcessMedia", {"FileId": ready_video, "MediaProcessTask": {
        "AnimatedGraphicTaskSet": [{"Definition": 99999}]}}).code == "ResourceNotFound.TemplateNotExist"
    assert refused(vod, "ProcessMedia", {"FileId": ready_video, "MediaProcessTask": {
        "AnimatedGraphicTaskSet": [{"Definition": 20000, "StartTimeOffset": 50}]}}).code \
        == "InvalidParameterValue.StartTimeOffset"
    preset = call(vod, "DescribeAnimatedGraphicsTemplates", {"Type": "Preset", "Limit": 1}).AnimatedGraphicsTemplateSet[0]
    assert refused(vod, "DeleteAnimatedGraphicsTemplate", {"Definition": preset.Definition}).code == "UnauthorizedOperation"
    assert refused(vod, "DescribeTaskDetail", {"TaskId": "1500000001-Procedure-x"}).code == "ResourceNotFound.TaskNotExist"


def test_unknown_key_wrong_secret_and_an_old_timestamp_are_refused(endpoint, access_key, monkeypatch) -> None:  # noqa: ANN001
    params = {"Limit": 1}
    assert refused(client(endpoint, ("AKIDnobody", "x")), "DescribeAnimatedGraphicsTemplates", params).code \
        == "AuthFailure.SecretIdNotFound"
    assert refused(client(endpoint, (access_key[0], "wrong")), "DescribeAnimatedGraphicsTemplates", params).code \
        == "AuthFailure.SignatureFailure"
    from tencentcloud.common import abstract_client

    class TenMinutesSlow:  # the SDK's clock only; the server keeps the real one
        def __getattr__(self, name: str):  # noqa: ANN204
            return getattr(time, name)

        @staticmethod
        def time() -> float:
            return time.time() - 600

    monkeypatch.setattr(abstract_client, "time", TenMinutesSlow())
    assert refused(client(endpoint, access_key), "DescribeAnimatedGraphicsTemplates", params).code \
        == "AuthFailure.SignatureExpire"


@pytest.mark.parametrize("tamper", ["body", "host"])
def test_a_request_changed_after_signing_is_refused(endpoint, access_key, monkeypatch, tamper) -> None:  # noqa: ANN001
    real_send = requests.Session.send

    def send(session, prepared, **kwargs):  # noqa: ANN001, ANN003, ANN202
        if tamper == "body":
            body = prepared.body.encode() if isinstance(prepared.body, str) else prepared.body
            prepared.body = body.replace(b'"Limit": 1', b'"Limit": 2')
        else:
            prepared.headers["Host"] = f"localhost:{endpoint.split(':')[1]}"
        return real_send(session, prepared, **kwargs)

    monkeypatch.setattr(requests.Session, "send", send)
    assert refused(client(endpoint, access_key), "DescribeAnimatedGraphicsTemplates", {"Limit": 1}).code \
        == "AuthFailure.SignatureFailure"


@pytest.mark.parametrize("method", ["HmacSHA1", "HmacSHA256"])
def test_the_legacy_signatures_work_and_a_replayed_nonce_is_refused(endpoint, access_key, monkeypatch, method) -> None:  # noqa: ANN001
    vod = client(endpoint, access_key, sign_method=method)
    listed = call(vod, "DescribeAnimatedGraphicsTemplates", {"Type": "Preset", "Limit": 2})
    assert listed.TotalCount >= 2 and len(listed.AnimatedGraphicsTemplateSet) == 2
    created = call(vod, "CreateAnimatedGraphicsTemplate", {"Format": "webp", "Width": 128, "Name": f"legacy {method}"})
    assert created.Definition

    sent = []
    real_send = requests.Session.send

    def send(session, prepared, **kwargs):  # noqa: ANN001, ANN003, ANN202
        sent.append(prepared.copy())
        return real_send(session, prepared, **kwargs)

    monkeypatch.setattr(requests.Session, "send", send)
    call(vod, "DescribeAnimatedGraphicsTemplates", {"Limit": 1})
    replay = requests.Session().send(sent[-1])
    assert replay.status_code == 200 and replay.json()["Response"]["Error"]["Code"] == "AuthFailure.SignatureFailure"
    assert "nonce" in replay.json()["Response"]["Error"]["Message"]


def test_switched_off_the_root_is_the_console_again(endpoint, access_key, settings) -> None:  # noqa: ANN001
    settings.VENDOR_API = False
    error = refused(client(endpoint, access_key), "DescribeAnimatedGraphicsTemplates", {"Limit": 1})
    assert error.code != "InvalidAction" and not error.code.startswith("AuthFailure")
