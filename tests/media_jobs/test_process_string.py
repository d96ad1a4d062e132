"""Alibaba OSS `video/animation` process strings: parsed in the seed's units, errors naming the
parameter, and a template's process-string form."""

from __future__ import annotations

import pytest

from media_jobs.errors import LoopdeckError
from media_jobs.process_string import parse, render

SEED_WEBP = ("video/animation,ss_5000,f_webp,pw_25,ph_25,fps_25,inter_500"
             "|sys/saveas,b_b3V0YnVja2V0,o_b3V0b2JqcHJlZml4LnthdXRvZXh0fQ/notify,topic_QXVkaW9Db252ZXJ0")


def test_the_seeds_examples() -> None:
    webp = parse(SEED_WEBP)
    assert webp.params == {"format": "webp", "start": 5.0, "width_percent": 25, "height_percent": 25,
                           "playback_fps": 25.0, "interval_ms": 500}
    assert (webp.save_bucket, webp.save_object, webp.notify_topic) == ("outbucket", "outobjprefix.{autoext}",
                                                                      "AudioConvert")
    gif = parse("video/animation,f_gif,w_100,h_100,inter_1000")
    assert gif.params == {"format": "gif", "width": 100, "height": 100, "interval_ms": 1000,
                          "resolution_adaptive": False}
    assert gif.save_object == "" and gif.steps == []


def test_fps_0_means_one_over_inter_and_num_caps_frames() -> None:
    assert parse("video/animation,f_gif,fps_0,inter_200,num_12").params == \
        {"format": "gif", "playback_fps": None, "interval_ms": 200, "max_frames": 12}


@pytest.mark.parametrize("text, field, code", [
    ("video/animation,w_100", "f", "MissingParameter"),
    ("video/animation,f_png", "f", "InvalidParameter"),
    ("video/animation,f_gif,speed_2", "speed", "InvalidParameter"),
    ("video/animation,f_gif,w_20", "w", "InvalidParameter"),
    ("video/animation,f_gif,h_5000", "h", "InvalidParameter"),
    ("video/animation,f_gif,fps_241", "fps", "InvalidParameter"),
    ("video/animation,f_gif,pw_0", "pw", "InvalidParameter"),
    ("video/animation,f_gif,inter_abc", "inter", "InvalidParameter"),
    ("video/animation,f_gif,scaletype_zoom", "scaletype", "InvalidParameter"),
    ("video/animation,f_gif,w_100,pw_50", "pw", "InvalidParameter"),
    ("video/animation,f_gif,f_webp", "f", "InvalidParameter"),
    ("video/snapshot,t_1000", "process", "InvalidParameter"),
    ("video/animation,f_gif|sys/saveas,b_b3V0YnVja2V0", "o", "MissingParameter"),
    ("video/animation,f_gif|sys/saveas,o_!!!", "o", "InvalidParameter"),
    ("", "process", "MissingParameter"),
])
def test_bad_strings_name_the_parameter(text: str, field: str, code: str) -> None:
    with pytest.raises(LoopdeckError) as excinfo:
        parse(text)
    assert (excinfo.value.field, str(excinfo.value.code)) == (field, code)
    assert excinfo.value.message.startswith(f"{field}:")


def test_a_templates_process_form_parses_back_to_the_same_fields() -> None:
    params = {"format": "webp", "start": 5.0, "interval_ms": 500, "playback_fps": 25.0, "width_percent": 25,
              "height_percent": 25, "scale_mode": "stretch", "width": 0, "height": 0, "max_frames": None}
    text = render(params)
    assert text == "video/animation,f_webp,ss_5000,inter_500,fps_25,pw_25,ph_25"
    assert parse(text).params == {k: v for k, v in params.items() if v and k != "scale_mode"}
