"""Every real-world file in /work/shared/media renders upright: the output's picture matches the
source's coded picture turned the way the MANIFEST says a player turns it (ffprobe's display
matrix), and not the opposite way.

tests/encode/test_shared_media.py checks the rest for the same files (named errors, aspect,
duration, frame timing); an aspect check cannot tell upright from upside down, or a quarter turn
one way from the other.
"""

from __future__ import annotations

import re
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from media_jobs.encode import EncodeError, RenderSpec, probe, render
from tests.encode.animation import open_animation

MEDIA = Path("/work/shared/media")
if not (MEDIA / "MANIFEST.md").exists():
    pytest.skip("the shared media corpus is not on this machine", allow_module_level=True)

FPS = 10
# Standard deviation of the grey levels below which a picture is a flat fade or black screen.
MIN_DETAIL = 0.8


def _rotations() -> dict[str, int]:
    """Per file, the MANIFEST's display-matrix rotation: -90 means a player turns it 90° clockwise."""
    rows = {}
    for line in (MEDIA / "MANIFEST.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 12 and cells[0].startswith("`") and re.fullmatch(r"-?\d+", cells[7]):
            rows[cells[0].strip("`")] = int(cells[7])
    return rows


ROTATIONS = _rotations()


def _normalised_gray(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    gray = np.asarray(Image.fromarray(np.ascontiguousarray(rgb)).convert("L").resize(size, Image.BILINEAR), float)
    return (gray - gray.mean()) / (gray.std() + 1e-6)


def _source_frames(path: Path, index: int, seconds: float) -> list[tuple[float, np.ndarray]]:
    """(time from the container's start, coded RGB picture, not turned) for the first `seconds`."""
    frames = []
    with av.open(str(path)) as container:
        origin = (container.start_time or 0) / av.time_base
        try:
            for frame in container.decode(container.streams[index]):
                if frame.time is None:
                    continue
                t = frame.time - origin
                if t > seconds:
                    break
                frames.append((t, frame.to_ndarray(format="rgb24")))
        except av.error.FFmpegError:
            pass  # a truncated file: the pictures before the break
    return frames


def test_the_manifest_gives_a_rotation_for_every_video():
    assert sum(1 for r in ROTATIONS.values() if r) >= 7
    assert set(ROTATIONS.values()) <= {0, -90, 90, -180, 180, 270, -270}


def _compare(name: str, out_path: Path, duration: float) -> list[tuple[float, float, float]]:
    """Render the first `duration` seconds; per source picture with detail (two at most):
    (time, match with the upright picture, match with it turned 180 degrees)."""
    src = MEDIA / name
    try:
        result = render(src, RenderSpec(format="webp", width=96, resolution_adaptive=False, fps=FPS,
                                        duration=duration, quality=90), out_path)
    except EncodeError as exc:
        pytest.fail(f"{name}: {exc.code}: {exc.message}")
    output = open_animation(out_path)
    size = (output.width, output.height)
    # The output's frame k shows the latest source picture at or before its start time.
    output_times = np.cumsum([0] + output.delays[:-1]) / 1000
    found = []
    for t, coded in _source_frames(src, probe(src).video_streams[0].index, result.end_offset):
        shown = np.ascontiguousarray(np.rot90(coded, k=ROTATIONS[name] // 90))
        # A fade from black carries no orientation.
        if np.asarray(Image.fromarray(shown).convert("L"), float).std() < MIN_DETAIL:
            continue
        k = int(np.searchsorted(output_times, t + 1e-3, side="right")) - 1
        out = _normalised_gray(output.frames[max(0, k)], size)
        upright = float((out * _normalised_gray(shown, size)).mean())
        turned = float((out * _normalised_gray(np.rot90(shown, 2), size)).mean())
        found.append((t, upright, turned))
        if len(found) == 2:
            break
    return found


@pytest.mark.parametrize("name", sorted(ROTATIONS))
def test_a_real_world_file_renders_upright(name, tmp_path):
    # Most files show something at once; a fade-in needs a longer look.
    found = _compare(name, tmp_path / "short.webp", 0.5) or _compare(name, tmp_path / "long.webp", 2.0)
    assert found, f"{name}: no source picture with detail in the first two seconds"
    for t, upright, turned in found:
        assert upright > 0.6 and upright > turned + 0.3, (
            f"{name} at {t:.2f} s: matches the upright picture {upright:.2f}, the one turned 180° {turned:.2f}")
