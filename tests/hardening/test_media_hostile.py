"""Hostile media against the encode core, through the isolated children the product runs:
playlists and scripts refused without reading what they name, dimension bombs refused before a
picture is decoded, absurd durations and frame counts bounded, undecodable codecs named.

The plain inputs (zero bytes, text, audio only, truncated files) are covered in
tests/encode/test_render_errors.py; here they run once more as part of the whole list.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import av
import pytest

from media_jobs.encode import (
    EncodeError,
    ErrorCode,
    RenderSpec,
    probe_isolated,
    render_isolated,
)
from media_jobs.encode.source import MAX_SOURCE_PIXELS, MAX_SOURCE_SIDE
from media_jobs.encode.spec import OUTPUT_FRAMES_MAX
from tests.hardening import fuzz_media

# Decoding no picture, a refusal needs no more than this above what the forked child inherits: a
# 60000x60000 picture is 5.4 GB, a 16000x16000 one 384 MB.
SMALL_MEMORY_MB = 64


@pytest.fixture(scope="module")
def listener() -> Iterator[fuzz_media.Listener]:
    server = fuzz_media.Listener()
    yield server
    server.sock.close()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, listener) -> dict[str, fuzz_media.Hostile]:
    directory = tmp_path_factory.mktemp("hostile")
    return {h.name: h for h in fuzz_media.hostile_files(directory, listener.port)}


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    path = tmp_path / "out"
    path.mkdir()
    return path


def refused(call, *args, **kwargs) -> tuple[EncodeError, float]:
    started = time.monotonic()
    with pytest.raises(EncodeError) as excinfo:
        call(*args, **kwargs)
    return excinfo.value, time.monotonic() - started


PLAYLISTS = ["HLS playlist of /etc/passwd and a local URL (.mp4)", "HLS playlist of /etc/passwd and a local URL (.m3u8)",
             "HLS playlist of another local video (.m3u8)", "concat script of /etc/passwd and a local URL (.mp4)",
             "concat script of the video beside it (.mp4)", "concat script naming itself (.mp4)"]


@pytest.mark.parametrize("name", PLAYLISTS)
def test_playlists_and_scripts_are_refused_without_reading_what_they_name(hostile, listener, out_dir, name):
    path = hostile[name].path
    for call, args in ((probe_isolated, (path,)),
                       (render_isolated, (path, RenderSpec(format="gif", width=48, fps=10), out_dir / "out.gif"))):
        error, seconds = refused(call, *args, timeout=30)
        assert error.code == ErrorCode.INVALID_VIDEO_FORMAT, error
        assert seconds < 2, f"{name}: refused after {seconds:.2f} s"
        assert fuzz_media.PASSWD_HEAD not in error.message.encode()
    assert listener.connections == 0, "a playlist entry was fetched"
    assert list(out_dir.iterdir()) == []


def test_without_the_allow_list_ffmpeg_would_read_the_files_a_playlist_names(hostile):
    """The threat is real in this FFmpeg: opened plainly, the playlist plays another local file and
    the concat script the file beside it. Our open refuses both (test above)."""
    with av.open(str(hostile["HLS playlist of another local video (.m3u8)"].path)) as container:
        assert container.format.name == "hls"
        assert sum(1 for _ in container.decode(video=0)) > 0
    with av.open(str(hostile["concat script of the video beside it (.mp4)"].path)) as container:
        assert container.format.name == "concat"
        assert sum(1 for _ in container.decode(video=0)) > 0


@pytest.mark.parametrize("name", ["60000x60000 y4m header", "60000x60000 MP4 (SPS, stsd, tkhd)",
                                  "16000x16000 MP4 (under FFmpeg's own limit)"])
def test_dimension_bombs_are_refused_before_any_picture_is_decoded(hostile, out_dir, name):
    path = hostile[name].path
    size = name.split()[0]
    spec = RenderSpec(format="webp", width=48, fps=10)
    for call, args in ((probe_isolated, (path,)), (render_isolated, (path, spec, out_dir / "out.webp"))):
        # So little memory that decoding one such picture would fail differently.
        error, seconds = refused(call, *args, timeout=30, memory_limit_mb=SMALL_MEMORY_MB)
        assert error.code == ErrorCode.RESOURCE_LIMIT_EXCEEDED, error
        assert f"dimensions {size} exceed the limit" in error.message
        assert seconds < 2, f"{name}: refused after {seconds:.2f} s"
    assert list(out_dir.iterdir()) == []


@pytest.mark.parametrize("width,height,allowed", [
    (3840, 2160, True), (8192, 4320, True), (16384, 2048, True),
    (8208, 4320, False), (MAX_SOURCE_SIDE + 16, 1008, False),
])
def test_the_source_cap_is_8k_in_area_and_16384_a_side(tmp_path, width, height, allowed):
    # Headers only (the pictures inside are 64x48): what is judged is the size a header claims.
    assert MAX_SOURCE_PIXELS == 8192 * 4320
    path = fuzz_media.mp4_claiming_size(fuzz_media.base_clip(tmp_path), tmp_path / "claim.mp4", width, height)
    if allowed:
        info = probe_isolated(path, timeout=60)
        assert (info.width, info.height) == (width, height)
    else:
        error, _ = refused(probe_isolated, path, timeout=60, memory_limit_mb=SMALL_MEMORY_MB)
        assert error.code == ErrorCode.RESOURCE_LIMIT_EXCEEDED and f"{width}x{height}" in error.message


def test_a_stream_in_a_codec_nothing_decodes_is_named(tmp_path, out_dir):
    # Found by the fuzz run: a damaged codec id left a video stream without a decoder, which was
    # an AttributeError (InternalError) instead of a named error.
    webm = fuzz_media.seed_clips(tmp_path)[1]
    unknown = tmp_path / "unknown.webm"
    unknown.write_bytes(webm.read_bytes().replace(b"V_VP9", b"V_ZZZ", 1))
    error, _ = refused(probe_isolated, unknown, timeout=30)
    assert error.code == ErrorCode.INVALID_VIDEO_FORMAT and "codec" in error.message
    error, _ = refused(render_isolated, unknown, RenderSpec(width=48), out_dir / "out.gif", timeout=30)
    assert error.code == ErrorCode.INVALID_VIDEO_FORMAT


def test_ten_hours_of_header_is_bounded_by_the_range_and_the_frame_cap(hostile, out_dir):
    spread = hostile["10 h duration (10 frames an hour apart)"].path
    started = time.monotonic()
    info = probe_isolated(spread, timeout=30)
    assert info.duration == pytest.approx(36000, rel=0.01)
    # The whole video at 10 fps would be 360,000 frames: refused by the cap, at once.
    error, seconds = refused(render_isolated, spread, RenderSpec(width=48, fps=10), out_dir / "all.gif", timeout=30)
    assert error.code == ErrorCode.INVALID_PARAMETER and f"at most {OUTPUT_FRAMES_MAX}" in error.message
    assert seconds < 2
    # A range deep inside: one seek, the frame shown there, nothing decoded in between.
    result = render_isolated(spread, RenderSpec(width=48, fps=10, start=30000, duration=2), out_dir / "late.gif",
                             timeout=30)
    assert 1 <= result.frames <= 20 and result.duration == pytest.approx(2.0, abs=0.11)
    # As many frames as the cap allows, of a video that barely changes: bounded and quick.
    capped = render_isolated(spread, RenderSpec(width=48, fps=10, max_frames=OUTPUT_FRAMES_MAX),
                             out_dir / "capped.gif", timeout=60)
    assert capped.frames <= OUTPUT_FRAMES_MAX
    assert time.monotonic() - started < 20


def test_a_header_lying_about_its_length_gets_the_length_of_its_pictures(hostile, out_dir):
    info = probe_isolated(hostile["10 h duration (headers only)"].path, timeout=30)
    assert info.duration == pytest.approx(1.0, abs=0.11)


def test_two_billion_claimed_frames_fail_in_seconds_without_building_an_index(hostile, out_dir):
    path = hostile["2e9 frames at 1000 fps"].path
    for call, args in ((probe_isolated, (path,)), (render_isolated, (path, RenderSpec(width=48), out_dir / "o.gif"))):
        error, seconds = refused(call, *args, timeout=30, memory_limit_mb=256)
        assert error.code in hostile["2e9 frames at 1000 fps"].expect, error
        assert seconds < 5


def test_every_hostile_file_gets_its_named_error_and_the_parent_lives(hostile, out_dir):
    timings = {}
    for name, item in hostile.items():
        for fmt in ("gif", "webp"):
            outcome = fuzz_media.run_case(item.path, out_dir / f"out.{fmt}", fmt=fmt, timeout=30)
            assert outcome.render in item.expect, f"{name} ({fmt}): {outcome.render}: {outcome.message}"
            assert outcome.probe in item.expect | {"ok"}, f"{name}: probe said {outcome.probe}"
            timings[f"{name} ({fmt})"] = outcome.seconds
    slowest = max(timings, key=timings.get)
    print(f"\nslowest hostile case: {slowest}, {timings[slowest]:.2f} s (probe + render)")
    assert timings[slowest] < 5
