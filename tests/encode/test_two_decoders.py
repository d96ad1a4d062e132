"""Two decoders over one range (the second from a key frame near the middle): same output as one."""

from __future__ import annotations

import hashlib
import importlib

import pytest

from media_jobs.encode import RenderSpec, render

render_module = importlib.import_module("media_jobs.encode.render")
plan_module = importlib.import_module("media_jobs.encode.plan")


def _splits(monkeypatch: pytest.MonkeyPatch) -> list:
    """Record where each render's second decoder took over (None: it found nowhere)."""
    seen: list = []
    real = plan_module.RenderPlan.second_decoder

    def recording(self, container):
        seen.append(real(self, container))
        return seen[-1]

    monkeypatch.setattr(plan_module.RenderPlan, "second_decoder", recording)
    return seen


def _one_decoder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plan_module, "SECOND_DECODER_MAX_PIXELS", 0)


def _md5(path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _one_then_two(src, spec: RenderSpec, tmp_path, monkeypatch: pytest.MonkeyPatch):
    """Render with one decoder (one.gif), then as usual (two.gif): both results, and the splits."""
    with monkeypatch.context() as patch:
        _one_decoder(patch)
        one = render(src, spec, tmp_path / "one.gif")
    with monkeypatch.context() as patch:
        seen = _splits(patch)
        two = render(src, spec, tmp_path / "two.gif")
    return one, two, seen


@pytest.mark.parametrize("dither", ["bayer", "sierra2_4a"])
def test_a_global_palette_gif_is_the_same_bytes_from_two_decoders(make_clip, tmp_path, monkeypatch, dither):
    src = make_clip(seconds=4.0, fps=30, content="texture", gop=15)
    spec = RenderSpec(format="gif", width=200, fps=15, start=0.4, duration=3.0, dither=dither)
    one, two, seen = _one_then_two(src, spec, tmp_path, monkeypatch)
    assert len(seen) == 1 and seen[0] is not None, "the second decoder did not take part"
    # The palette sees the frames in the same order, so every byte is the same.
    assert _md5(tmp_path / "two.gif") == _md5(tmp_path / "one.gif")
    assert (two.frames, two.duration, two.start_offset, two.end_offset) == (45, 3.0, 0.4, 3.4)
    assert two.to_dict() == one.to_dict()


def test_a_range_running_past_the_end_is_clipped_the_same_with_two_decoders(make_clip, tmp_path, monkeypatch):
    src = make_clip(seconds=3.0, fps=30, content="texture", gop=15)
    spec = RenderSpec(format="gif", width=160, fps=10, start=1.0, duration=5.0)
    one, two, seen = _one_then_two(src, spec, tmp_path, monkeypatch)
    assert seen and seen[0] is not None
    assert two.clipped and one.clipped
    assert (two.frames, two.end_offset) == (one.frames, one.end_offset) == (20, 3.0)
    assert _md5(tmp_path / "two.gif") == _md5(tmp_path / "one.gif")


def test_webp_from_two_decoders_ends_where_the_file_ends(make_clip, tmp_path, monkeypatch):
    src = make_clip(seconds=3.0, fps=30, content="texture", gop=15)
    seen = _splits(monkeypatch)
    result = render(src, RenderSpec(format="webp", width=160, fps=10, start=1.0, duration=5.0),
                    tmp_path / "out.webp")
    assert seen and seen[0] is not None
    assert result.clipped and result.frames == 20 and result.duration == 2.0 and result.end_offset == 3.0


def test_when_the_second_opening_fails_one_decoder_renders_it_all(make_clip, tmp_path, monkeypatch):
    src = make_clip(seconds=4.0, fps=30, content="texture", gop=15)
    opened: list[str] = []

    def second_open_fails(path, **kwargs):
        # render's own opening goes through source.open_sized; this name serves the second one.
        opened.append(str(path))
        raise render_module.EncodeError(render_module.ErrorCode.RESOURCE_NOT_FOUND, "gone")

    monkeypatch.setattr(render_module, "open_input", second_open_fails)
    for fmt in ("webp", "gif"):
        opened.clear()
        result = render(src, RenderSpec(format=fmt, width=160, fps=15, duration=3.0), tmp_path / f"out.{fmt}")
        assert len(opened) == 1
        assert (result.frames, result.duration, result.clipped) == (45, 3.0, False)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("fmt", ["webp", "gif"])
@pytest.mark.parametrize("failing", ["decode-1", "decode-2"])
def test_a_decoder_failing_midway_fails_the_render_without_a_hang_or_a_file(make_clip, tmp_path, monkeypatch,
                                                                          fmt, failing):
    import threading

    src = make_clip(seconds=4.0, fps=30, content="texture", gop=15)
    real_scale_each = render_module._scale_each

    def failing_scale_each(first, slots, scaler):
        for n, item in enumerate(real_scale_each(first, slots, scaler)):
            if n == 5 and threading.current_thread().name == failing:
                raise render_module.EncodeError(render_module.ErrorCode.DECODE_FAILED, "broken picture")
            yield item

    monkeypatch.setattr(render_module, "_scale_each", failing_scale_each)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    before = threading.active_count()
    with pytest.raises(render_module.EncodeError, match="broken picture"):
        render(src, RenderSpec(format=fmt, width=160, fps=15, duration=3.5), out_dir / f"out.{fmt}")
    assert list(out_dir.iterdir()) == []
    assert threading.active_count() == before  # decoders and encoders all ended


@pytest.mark.parametrize("fmt", ["webp", "gif"])
def test_a_second_decoder_that_finds_no_picture_means_one_decoder_renders_it_all(make_clip, tmp_path,
                                                                                  monkeypatch, fmt):
    src = make_clip(seconds=4.0, fps=30, content="texture", gop=15)
    real_slots = render_module.FrameSource.slots
    calls: list = []

    def nothing_after_a_seek(self, plan, first=0, seek=None):
        calls.append(seek)
        if seek is not None:
            return iter(())  # the key frame the index names decodes to nothing
        return real_slots(self, plan, first, seek)

    monkeypatch.setattr(render_module.FrameSource, "slots", nothing_after_a_seek)
    result = render(src, RenderSpec(format=fmt, width=160, fps=15, duration=3.0), tmp_path / f"out.{fmt}")
    assert any(seek is not None for seek in calls), "the second decoder did not try"
    assert (result.frames, result.duration, result.end_offset, result.clipped) == (45, 3.0, 3.0, False)
    assert [p.name for p in tmp_path.iterdir()] == [f"out.{fmt}"]


def test_pictures_with_alpha_go_back_to_one_decoder_and_keep_their_transparency(tmp_path, monkeypatch):
    from fractions import Fraction

    import av
    import numpy as np
    from PIL import Image

    # PNG pictures in a QuickTime file (every frame a key frame): a transparent border and a
    # moving square.
    src = tmp_path / "alpha.mov"
    with av.open(str(src), "w") as container:
        stream = container.add_stream("png", rate=10)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "rgba"
        for k in range(40):
            rgba = np.zeros((64, 96, 4), np.uint8)
            rgba[12:52, 20:76] = (200, 40 + 5 * k, 40, 255)
            rgba[20:36, k:k + 16] = (20, 20, 220, 255)
            frame = av.VideoFrame.from_ndarray(rgba, format="rgba")
            frame.pts, frame.time_base = k, Fraction(1, 10)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    # The header tells this pixel format, so the second decoder would not be tried; a source whose
    # format shows only once a picture is decoded is made up by trying it anyway.
    monkeypatch.setattr(plan_module.RenderPlan, "wants_second_decoder", lambda self: True)
    seen = _splits(monkeypatch)
    result = render(src, RenderSpec(format="webp", fps=10, duration=4.0), tmp_path / "out.webp")
    assert seen and seen[0] is not None, "the second decoder was not tried"
    assert (result.frames, result.duration) == (40, 4.0)
    with Image.open(tmp_path / "out.webp") as anim:
        anim.seek(20)
        rgba = anim.convert("RGBA")
        assert rgba.getpixel((2, 2))[3] == 0  # the border stays transparent
        assert rgba.getpixel((48, 45))[3] == 255
