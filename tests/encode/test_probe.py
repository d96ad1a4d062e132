"""probe(): what a user sees about an uploaded file, and the named errors for files that are not videos."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from media_jobs.encode import EncodeError, ErrorCode, MediaInfo, probe
from tests import clips


def test_it_describes_an_h264_clip(make_clip):
    path = make_clip(width=320, height=240, fps=30, seconds=2.0)
    info = probe(path)
    assert "mp4" in info.container
    assert info.duration == pytest.approx(2.0, abs=0.05)
    assert info.size == path.stat().st_size
    assert (info.width, info.height, info.rotate) == (320, 240, 0)
    assert len(info.video_streams) == 1
    video = info.video_streams[0]
    assert video.codec == "h264"
    assert video.fps == pytest.approx(30, abs=0.01)
    assert (video.width, video.height) == (320, 240)
    assert video.pix_fmt == "yuv420p"
    assert info.audio_streams == []
    assert info.video_duration == pytest.approx(2.0, abs=0.05)


def test_its_bitrate_matches_the_file_size_over_the_duration(make_clip):
    path = make_clip(seconds=2.0, content="gradient")
    info = probe(path)
    assert info.bitrate == pytest.approx(path.stat().st_size * 8 / info.duration, rel=0.1)


@pytest.mark.parametrize(
    "kwargs,codec,container,pix_fmt",
    [
        ({"codec": "libx265"}, "hevc", "mp4", "yuv420p"),
        ({"codec": "libvpx-vp9"}, "vp9", "webm", "yuv420p"),
        ({"codec": "mjpeg", "pix_fmt": "yuvj420p"}, "mjpeg", "avi", "yuvj420p"),
        ({"ten_bit": True}, "h264", "mp4", "yuv420p10le"),
        ({"color_range": "pc"}, "h264", "mp4", "yuvj420p"),
    ],
    ids=["hevc", "vp9-webm", "mjpeg-avi", "h264-10bit", "h264-full-range"],
)
def test_it_names_the_codec_container_and_pixel_format(make_clip, kwargs, codec, container, pix_fmt):
    info = probe(make_clip(width=192, height=144, fps=25, seconds=1.0, **kwargs))
    assert container in info.container
    video = info.video_streams[0]
    assert video.codec == codec
    assert video.pix_fmt == pix_fmt
    assert video.fps == pytest.approx(25, abs=0.01)
    assert (info.width, info.height) == (192, 144)
    assert info.duration == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize("rotation,shown", [(0, (320, 240)), (90, (240, 320)), (180, (320, 240)), (270, (240, 320))])
def test_it_reports_the_displayed_size_and_rotation_of_a_phone_style_clip(make_clip, rotation, shown):
    info = probe(make_clip(width=320, height=240, seconds=1.0, rotation=rotation))
    assert info.rotate == rotation
    assert (info.width, info.height) == shown
    # The stream keeps the coded size: that is what the encoder produced.
    assert (info.video_streams[0].width, info.video_streams[0].height) == (320, 240)


def test_it_applies_the_sample_aspect_ratio_to_the_displayed_width(make_clip):
    info = probe(make_clip(width=240, height=240, seconds=1.0, sar=(4, 3)))
    assert (info.width, info.height) == (320, 240)
    assert (info.video_streams[0].width, info.video_streams[0].height) == (240, 240)


def test_it_combines_rotation_and_sample_aspect_ratio(make_clip):
    info = probe(make_clip(width=240, height=240, seconds=1.0, sar=(4, 3), rotation=90))
    assert (info.width, info.height) == (240, 320)
    assert info.rotate == 90


@pytest.mark.parametrize("rate,channels", [(48_000, 2), (44_100, 1)])
def test_it_describes_the_audio_track(make_clip, rate, channels):
    info = probe(make_clip(seconds=2.0, audio=True, audio_rate=rate, audio_channels=channels))
    assert len(info.audio_streams) == 1
    audio = info.audio_streams[0]
    assert audio.codec == "aac"
    assert audio.sampling_rate == rate
    assert audio.channels == channels
    assert audio.bitrate > 0
    assert info.audio_duration == pytest.approx(2.0, abs=0.1)
    assert info.video_streams[0].codec == "h264"


def test_a_variable_frame_rate_clip_reports_its_mean_rate(make_clip):
    seconds = 2.0
    path = make_clip(fps=30, seconds=seconds, vfr=True)
    times = clips.frame_times(30, seconds, vfr=True)
    info = probe(path)
    mean = len(times) / seconds
    # Neither the nominal 30 fps nor the 90 kHz time base: about 24 frames a second.
    assert info.video_streams[0].fps == pytest.approx(mean, rel=0.08)


def test_to_metadata_uses_tencent_field_names(make_clip):
    info = probe(make_clip(seconds=2.0, audio=True, rotation=90))
    meta = info.to_metadata()
    assert set(meta) == {"Size", "Container", "Bitrate", "Height", "Width", "Duration", "Rotate",
                         "VideoDuration", "AudioDuration", "VideoStreamSet", "AudioStreamSet"}
    assert (meta["Width"], meta["Height"], meta["Rotate"]) == (240, 320, 90)
    assert meta["Size"] == info.size
    assert meta["VideoStreamSet"][0] == {"Bitrate": info.video_streams[0].bitrate, "Codec": "h264",
                                         "Fps": pytest.approx(30, abs=0.01), "Height": 240, "Width": 320}
    assert meta["AudioStreamSet"][0]["SamplingRate"] == 48_000
    assert meta["AudioStreamSet"][0]["Codec"] == "aac"
    json.dumps(meta)


def test_media_info_survives_a_round_trip_through_json(make_clip):
    info = probe(make_clip(seconds=1.0, audio=True))
    assert MediaInfo.from_dict(json.loads(json.dumps(info.to_dict()))) == info


def test_a_long_clip_is_probed_from_its_headers(long_clip):
    info = probe(long_clip)
    assert info.duration == pytest.approx(60.0, abs=0.2)
    assert info.video_streams[0].fps == pytest.approx(10, abs=0.01)
    assert (info.width, info.height) == (160, 120)


def _bytes_read() -> int:
    with open("/proc/self/io") as f:
        return int(next(line for line in f if line.startswith("rchar:")).split()[1])


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="needs Linux /proc/self/io")
def test_probing_a_big_file_reads_only_a_little_of_it(clip_dir):
    src = clips.make_long_clip(clip_dir / "long_faststart.mp4", faststart=True)
    big = clips.make_garbage_tail(src, clip_dir / "long_with_tail.mp4", extra_bytes=512 * 1024 * 1024)
    before = _bytes_read()
    info = probe(big)
    read = _bytes_read() - before
    assert info.size == big.stat().st_size
    assert info.duration == pytest.approx(60.0, abs=0.2)
    assert read < 16 * 1024 * 1024, f"probe read {read / 2**20:.1f} MiB of a {info.size / 2**20:.0f} MiB file"


def test_a_truncated_file_with_its_index_up_front_still_gives_its_headers(truncated_clip):
    info = probe(truncated_clip)
    assert info.duration == pytest.approx(3.0, abs=0.05)
    assert (info.width, info.height) == (320, 240)
    assert info.video_streams[0].codec == "h264"


def _code_of(path) -> ErrorCode:
    with pytest.raises(EncodeError) as excinfo:
        probe(path)
    assert excinfo.value.message
    return excinfo.value.code


def test_an_empty_file_is_empty_file(empty_file):
    assert _code_of(empty_file) == ErrorCode.EMPTY_FILE


def test_a_text_file_is_an_invalid_video_format(text_file):
    assert _code_of(text_file) == ErrorCode.INVALID_VIDEO_FORMAT


def test_an_audio_only_file_has_no_video_stream(audio_only):
    assert _code_of(audio_only) == ErrorCode.NO_VIDEO_STREAM


def test_a_file_cut_before_its_index_is_an_invalid_video_format(headless_clip):
    assert _code_of(headless_clip) == ErrorCode.INVALID_VIDEO_FORMAT


def test_a_missing_file_is_resource_not_found(tmp_path):
    assert _code_of(tmp_path / "nope.mp4") == ErrorCode.RESOURCE_NOT_FOUND


def test_a_directory_is_an_invalid_video_format(tmp_path):
    assert _code_of(tmp_path) == ErrorCode.INVALID_VIDEO_FORMAT


def test_random_bytes_are_an_invalid_video_format(tmp_path):
    path = tmp_path / "noise.mp4"
    path.write_bytes(bytes((i * 7919 + 13) % 256 for i in range(64 * 1024)))
    assert _code_of(path) == ErrorCode.INVALID_VIDEO_FORMAT
