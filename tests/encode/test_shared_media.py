"""Real-world files from /work/shared/media: a good animated image the right way up, or a named error."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from media_jobs.encode import EncodeError, ErrorCode, RenderSpec, render
from tests.encode.animation import open_animation

MEDIA = Path("/work/shared/media")
if not (MEDIA / "MANIFEST.md").exists():
    pytest.skip("the shared media corpus is not on this machine", allow_module_level=True)


def _manifest() -> dict[str, dict]:
    """Per file: displayed aspect (coded size turned by the rotation) from the MANIFEST's table."""
    rows = {}
    for line in (MEDIA / "MANIFEST.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 12 or not cells[0].startswith("`"):
            continue
        name = cells[0].strip("`")
        size = re.fullmatch(r"(\d+)x(\d+)", cells[6])
        rotation = int(cells[7]) if re.fullmatch(r"-?\d+", cells[7]) else 0
        if size:
            w, h = int(size[1]), int(size[2])
            if rotation % 180:
                w, h = h, w
            rows[name] = {"display": (w, h)}
        else:
            rows[name] = {"display": None}
    return rows


MANIFEST = _manifest()
# The MANIFEST lists coded sizes; these files also have non-square pixels, which players apply.
MANIFEST["featurephone_2004_h263_amr_vfr.3gp"]["display"] = (192, 144)  # H.263 QCIF, SAR 12:11
FILES = sorted(p.name for p in MEDIA.iterdir() if p.name != "MANIFEST.md")

# Files that must not give an animated image, and what they must say instead.
MUST_FAIL = {"audio_only_aac_coremedia.m4a": ErrorCode.NO_VIDEO_STREAM}
# Files cut short: either the frames that decode, or DecodeFailed.
TRUNCATED = {"truncated_mkv_first100KiB_of_1132s.mkv", "truncated_by_us_phone_android_h264_1MB_of_1.78MB.mp4"}


def test_the_manifest_describes_every_file():
    assert set(FILES) <= set(MANIFEST)
    assert len(FILES) >= 20


@pytest.mark.parametrize("name", FILES)
def test_a_real_world_file_renders_or_fails_with_a_named_code(name, tmp_path):
    fmt = "gif" if FILES.index(name) % 2 == 0 else "webp"
    out = tmp_path / f"out.{fmt}"
    spec = RenderSpec(format=fmt, width=160, resolution_adaptive=False, fps=10, duration=2.0)
    try:
        result = render(MEDIA / name, spec, out)
    except EncodeError as exc:
        assert list(tmp_path.iterdir()) == []
        if name in MUST_FAIL:
            assert exc.code == MUST_FAIL[name]
            return
        if name in TRUNCATED:
            assert exc.code == ErrorCode.DECODE_FAILED, exc
            return
        pytest.fail(f"{name}: {exc.code}: {exc.message}")
    assert name not in MUST_FAIL, f"{name} should have failed with {MUST_FAIL.get(name)}"
    anim = open_animation(out)
    assert (result.width, result.height) == (anim.width, anim.height)
    assert result.frames == len(anim.frames)
    assert anim.width == 160
    display_w, display_h = MANIFEST[name]["display"]
    # Portrait stays portrait: the output has the displayed aspect, to a pixel of rounding.
    assert anim.height == pytest.approx(160 * display_h / display_w, abs=1.5)
    used = result.end_offset - result.start_offset
    assert 0 < used <= 2.0 + 1e-6
    slots = max(1, round(used * 10))
    # Runs of identical pictures (dropped frames, still screens, VFR gaps) may be written as one
    # longer frame, so count the time they play for, not the frames.
    assert 1 <= result.frames <= slots + 1
    if name in TRUNCATED:
        assert anim.duration_ms <= (slots + 1) * 100
    else:
        assert abs(anim.duration_ms - slots * 100) <= 100, f"plays {anim.duration_ms} ms for {used:.3f} s"
        if slots > 1:
            assert anim.is_animated, f"{used:.2f} s rendered but the file is a still image"
    assert result.duration == pytest.approx(anim.duration_ms / 1000, abs=0.011)
