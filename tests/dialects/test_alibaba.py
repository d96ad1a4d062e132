"""Alibaba VOD 2017-03-21 through both official SDKs (aliyun-python-sdk-vod on the legacy core,
RPC HMAC-SHA1; alibabacloud-vod20170321 on Tea, ACS3-HMAC-SHA256), only the endpoint changed."""

from __future__ import annotations

import importlib
import json

import pytest
import requests
from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkcore.client import AcsClient
from alibabacloud_tea_openapi.models import Config
from alibabacloud_tea_openapi.exceptions import ClientException as TeaClientException
from alibabacloud_vod20170321 import models as tea_models
from alibabacloud_vod20170321.client import Client as TeaClient

from tests.dialects.conftest import drain_until, fetch_frames

pytestmark = pytest.mark.django_db(transaction=True)


def legacy(endpoint: str, key: tuple[str, str]) -> AcsClient:
    acs = AcsClient(key[0], key[1], "cn-shanghai")
    acs.add_endpoint("cn-shanghai", "vod", endpoint)
    return acs


def call(acs: AcsClient, action: str, **params: str) -> dict:
    module = importlib.import_module(f"aliyunsdkvod.request.v20170321.{action}Request")
    request = getattr(module, f"{action}Request")()
    for name, value in params.items():
        getattr(request, f"set_{name}")(value)
    return json.loads(acs.do_action_with_exception(request))


def refused(acs: AcsClient, action: str, **params: str) -> ServerException:
    with pytest.raises(ServerException) as excinfo:
        call(acs, action, **params)
    return excinfo.value


def tea(endpoint: str, key: tuple[str, str], algorithm: str | None = None) -> TeaClient:
    config = Config(access_key_id=key[0], access_key_secret=key[1], endpoint=endpoint, protocol="HTTP")
    if algorithm:
        config.signature_algorithm = algorithm
    return TeaClient(config)


def test_the_whole_flow_with_the_legacy_sdk(endpoint, access_key, ready_video, run_worker) -> None:  # noqa: ANN001
    acs = legacy(endpoint, access_key)
    config = {"Format": "webp", "Fps": "4", "Width": "160", "Height": "0",
              "TimeSpan": {"Seek": "0.5", "Duration": "1"}, "SetDefaultCover": "false"}
    template_id = call(acs, "AddVodTemplate", Name="ali webp", TemplateType="DynamicImage",
                       TemplateConfig=json.dumps(config))["VodTemplateId"]
    info = call(acs, "GetVodTemplate", VodTemplateId=template_id)["VodTemplateInfo"]
    assert (info["Name"], info["TemplateType"]) == ("ali webp", "DynamicImage")
    assert json.loads(info["TemplateConfig"])["TimeSpan"] == {"Seek": "0.5", "Duration": "1"}
    call(acs, "UpdateVodTemplate", VodTemplateId=template_id, Name="ali webp 2",
         TemplateConfig=json.dumps({**config, "Fps": "5"}))
    listed = call(acs, "ListVodTemplate", TemplateType="DynamicImage")["VodTemplateInfoList"]
    assert [t["Name"] for t in listed if t["VodTemplateId"] == template_id] == ["ali webp 2"]

    # OverrideParams moves the span: 1 s .. 2 s at 5 fps.
    job = call(acs, "SubmitDynamicImageJob", VideoId=ready_video, DynamicImageTemplateId=template_id,
               OverrideParams=json.dumps({"TimeSpan": {"Seek": "1", "Duration": "1"}}))["DynamicImageJob"]
    drain_until(run_worker, lambda: bool(call(acs, "ListDynamicImage", VideoId=ready_video)["DynamicImageList"]))
    image = call(acs, "ListDynamicImage", VideoId=ready_video)["DynamicImageList"][0]
    assert image["JobId"] == job["JobId"] and image["Format"] == "webp"
    picture, frames, durations, data = fetch_frames(image["URL"])
    assert (picture.format, picture.size, len(frames)) == ("WEBP", (160, 120), 5)
    assert sum(durations) == 1000 and image["FileSize"] == str(len(data))

    call(acs, "UpdateVideoInfo", VideoId=ready_video, Title="renamed by sdk", CoverURL=image["URL"])
    video = call(acs, "GetVideoInfo", VideoId=ready_video)["Video"]
    assert video["Title"] == "renamed by sdk" and video["Status"] == "Normal"
    assert video["CoverURL"].split("?")[0] == image["URL"].split("?")[0]
    assert call(acs, "GetVideoList")["Total"] == 1
    assert call(acs, "DeleteVideo", VideoIds=ready_video)["NonExistVideoIds"] == []
    assert refused(acs, "GetVideoInfo", VideoId=ready_video).get_error_code() == "InvalidVideo.NotFound"
    call(acs, "DeleteVodTemplate", VodTemplateId=template_id)


def test_errors_with_the_legacy_sdk(endpoint, access_key, ready_video) -> None:  # noqa: ANN001
    acs = legacy(endpoint, access_key)
    missing = refused(acs, "GetVideoInfo", VideoId="93ab850b4f6f44eab54b6e91d24d0000")
    assert (missing.get_error_code(), missing.get_http_status()) == ("InvalidVideo.NotFound", 404)
    assert missing.get_request_id()
    bad = refused(acs, "AddVodTemplate", Name="too wide", TemplateType="DynamicImage",
                  TemplateConfig=json.dumps({"Format": "gif", "Width": "9000"}))
    assert (bad.get_error_code(), bad.get_http_status()) == ("InvalidParameter", 400)
    assert "Width" in bad.get_error_msg()
    assert refused(acs, "AddVodTemplate", TemplateType="DynamicImage",
                   TemplateConfig="{}").get_error_code() == "MissingParameter"
    assert refused(acs, "SubmitDynamicImageJob", VideoId=ready_video,
                   DynamicImageTemplateId="424242").get_error_code() == "InvalidTemplate.NotFound"
    preset = call(acs, "ListVodTemplate", TemplateType="DynamicImage")["VodTemplateInfoList"][0]
    denied = refused(acs, "DeleteVodTemplate", VodTemplateId=preset["VodTemplateId"])
    assert (denied.get_error_code(), denied.get_http_status()) == ("Forbidden", 403)


def test_keys_signatures_and_nonces_with_the_legacy_sdk(endpoint, access_key, monkeypatch) -> None:  # noqa: ANN001
    unknown = refused(legacy(endpoint, ("LTAInobody", "x")), "GetVideoList")
    assert (unknown.get_error_code(), unknown.get_http_status()) == ("InvalidAccessKeyId.NotFound", 404)
    # The vendor's message form: the legacy core compares our string to sign with its own and,
    # the secret being wrong but the string the same, reports InvalidAccessKeySecret.
    wrong = refused(legacy(endpoint, (access_key[0], "wrong")), "GetVideoList")
    assert wrong.get_error_code() == "InvalidAccessKeySecret"

    from aliyunsdkcore.vendored import requests as vendored  # the legacy core's own copy

    sent = []
    real_send = vendored.Session.send

    def send(session, prepared, **kwargs):  # noqa: ANN001, ANN003, ANN202
        sent.append(prepared.copy())
        return real_send(session, prepared, **kwargs)

    monkeypatch.setattr(vendored.Session, "send", send)
    call(legacy(endpoint, access_key), "GetVideoList")
    replay = requests.Session().send(requests.Request(sent[-1].method, sent[-1].url, headers=dict(sent[-1].headers)).prepare())
    assert (replay.status_code, replay.json()["Code"]) == (400, "SignatureNonceUsed")
    call(legacy(endpoint, access_key), "GetVideoList")
    tampered = sent[-1].url.replace("Action=GetVideoList", "Action=GetVideoList&PageSize=1")
    answer = requests.post(tampered, headers=dict(sent[-1].headers), timeout=10)
    assert (answer.status_code, answer.json()["Code"]) == (400, "SignatureDoesNotMatch")
    assert answer.json()["Message"].startswith("Specified signature is not matched with our calculation. server string to sign is:POST&%2F&")


def test_the_tea_sdk_acs3_and_its_v2_form(endpoint, access_key, ready_video) -> None:  # noqa: ANN001
    for algorithm in (None, "v2"):
        client = tea(endpoint, access_key, algorithm)
        created = client.add_vod_template(tea_models.AddVodTemplateRequest(
            name=f"tea gif {algorithm}", template_type="DynamicImage",
            template_config=json.dumps({"Format": "gif", "Fps": "5", "Width": "128"})))
        template_id = created.body.vod_template_id
        assert template_id
        got = client.get_vod_template(tea_models.GetVodTemplateRequest(vod_template_id=template_id))
        assert got.body.vod_template_info.name == f"tea gif {algorithm}"
        job = client.submit_dynamic_image_job(tea_models.SubmitDynamicImageJobRequest(
            video_id=ready_video, dynamic_image_template_id=template_id))
        assert job.body.dynamic_image_job.job_id
        video = client.get_video_info(tea_models.GetVideoInfoRequest(video_id=ready_video))
        assert video.body.video.title == "sdk clip"
        with pytest.raises(TeaClientException) as excinfo:
            client.get_video_info(tea_models.GetVideoInfoRequest(video_id="no-such-video"))
        assert (excinfo.value.code, excinfo.value.status_code) == ("InvalidVideo.NotFound", 404)

    with pytest.raises(TeaClientException) as excinfo:
        tea(endpoint, (access_key[0], "wrong")).get_video_info(tea_models.GetVideoInfoRequest(video_id=ready_video))
    assert excinfo.value.code == "SignatureDoesNotMatch"
