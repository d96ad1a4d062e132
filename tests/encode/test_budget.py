"""The size budget: a render over `max_size_kb` is made again with lower settings in the
operator's order until it fits, says what it lowered, and never leaves an over-budget file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from media_jobs.encode import EncodeError, RenderSpec, render
from tests.encode.animation import open_animation


@pytest.fixture
def clip(make_clip) -> Path:  # noqa: ANN001
    return make_clip(width=320, height=240, fps=30, seconds=2.0, content="texture")


def budget_between(clip: Path, tmp_path: Path, **fields) -> tuple[int, RenderSpec]:  # noqa: ANN003
    """A budget half-way between the unlimited render's size and a far smaller one."""
    spec = RenderSpec(**fields)
    full = render(clip, spec, tmp_path / f"full.{spec.format}")
    return full.size, spec


def test_a_gif_over_budget_lowers_colours_first_and_fits(clip: Path, tmp_path: Path) -> None:
    full_size, spec = budget_between(clip, tmp_path, format="gif", width=320, fps=10)
    budget_kb = int(full_size * 0.8 / 1024)
    result = render(clip, spec.replace(max_size_kb=budget_kb), tmp_path / "fit.gif")
    assert result.size <= budget_kb * 1024 < full_size
    assert result.budget_steps and result.budget_steps[0] == "colours 256 → 128"
    animation = open_animation(tmp_path / "fit.gif")
    # Colours cost nothing in frames, size or timing: 2 s at 10 fps, 320x240, 100 ms each.
    assert (animation.width, animation.height, len(animation.frames)) == (320, 240, 20)
    assert set(animation.delays) == {100}


def test_the_operators_order_is_followed(clip: Path, tmp_path: Path) -> None:
    full_size, spec = budget_between(clip, tmp_path, format="webp", width=320, fps=10, quality=90)
    budget_kb = max(1, int(full_size * 0.5 / 1024))
    result = render(clip, spec.replace(max_size_kb=budget_kb, budget_order="size,fps"), tmp_path / "fit.webp")
    assert result.size <= budget_kb * 1024
    assert result.budget_steps[0].startswith("size 320×240 → ")
    assert not any(step.startswith("quality") for step in result.budget_steps)
    animation = open_animation(tmp_path / "fit.webp")
    assert animation.width < 320 and sum(animation.delays) == pytest.approx(2000, abs=110)


def test_fps_lowering_keeps_real_time(clip: Path, tmp_path: Path) -> None:
    full_size, spec = budget_between(clip, tmp_path, format="gif", width=160, fps=20)
    result = render(clip, spec.replace(max_size_kb=int(full_size * 0.7 / 1024), budget_order="fps"),
                    tmp_path / "fit.gif")
    animation = open_animation(tmp_path / "fit.gif")
    assert result.budget_steps[0] == "fps 20 → 14.9"
    assert len(animation.frames) < 40 and sum(animation.delays) == pytest.approx(2000, abs=110)


def test_an_impossible_budget_fails_by_name_and_leaves_no_file(clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "never.gif"
    with pytest.raises(EncodeError) as excinfo:
        render(clip, RenderSpec(format="gif", width=320, fps=10, max_size_kb=1, budget_order="colors"), out)
    error = excinfo.value
    assert (str(error.code), error.field) == ("ResourceLimitExceeded", "max_size_kb")
    assert "cannot fit in 1 KB" in error.message and "colours 32 → 16" in error.message
    assert not out.exists() and not [p for p in os.listdir(tmp_path) if p.startswith("never")]


def test_a_budget_that_is_met_changes_nothing(clip: Path, tmp_path: Path) -> None:
    result = render(clip, RenderSpec(format="gif", width=160, fps=5, max_size_kb=100_000), tmp_path / "ok.gif")
    assert result.budget_steps == ()


@pytest.mark.parametrize("order", ["", "speed", "fps,fps"])
def test_a_bad_order_is_a_named_parameter_error(order: str) -> None:
    assert "budget_order" in RenderSpec(budget_order=order).errors()


@pytest.mark.parametrize("fmt", ["webp", "gif"])
def test_alpha_survives_the_lowering(tmp_path: Path, fmt: str) -> None:
    from tests.clips import make_alpha_clip
    from tests.encode.test_alpha import _alphas

    source = make_alpha_clip(tmp_path / "alpha.webm", codec="libvpx-vp9")
    spec = RenderSpec(format=fmt, fps=10, duration=2.0, quality=90, lossless=fmt == "webp")
    full = render(source, spec, tmp_path / f"full.{fmt}")
    result = render(source, spec.replace(max_size_kb=max(1, int(full.size * 0.6 / 1024))), tmp_path / f"fit.{fmt}")
    assert result.budget_steps and result.size < full.size
    alphas = _alphas(tmp_path / f"fit.{fmt}")
    assert len(alphas) == result.frames
    for alpha in alphas:
        assert (alpha[:8, :8] < 128).all()  # the background is still transparent
        assert (alpha > 200).any()  # and the subject opaque
