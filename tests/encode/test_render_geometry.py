"""render(): output size, scale modes, padding, and pictures that stay upright."""

from __future__ import annotations

import pytest

from tests import clips
from tests.encode.animation import is_black, render_and_open

# Generous for GIF dithering and WebP chroma bleed; a wrong corner is ~255 away.
COLOR_TOLERANCE = 40


def assert_quadrants(frame, box=None):
    """The four corner colours of the test picture are where they belong (the picture is upright)."""
    found = clips.quadrant_colors(frame, box)
    for corner, expected in clips.QUADRANTS.items():
        assert clips.color_distance(found[corner], expected) <= COLOR_TOLERANCE, f"{corner}: {found[corner]}"


@pytest.fixture(scope="module")
def landscape(make_clip):
    """320x240 (4:3), 1 s."""
    return make_clip(width=320, height=240, seconds=1.0)


@pytest.fixture(scope="module")
def portrait(make_clip):
    """A phone-style clip: coded 320x240, shown 240x320 (rotated 90 degrees clockwise)."""
    return make_clip(width=320, height=240, seconds=1.0, rotation=90)


def render(src, tmp_path, fmt="gif", **fields):
    fields.setdefault("fps", 5)
    result, anim = render_and_open(src, tmp_path / f"out.{fmt}", format=fmt, **fields)
    assert (result.width, result.height) == (anim.width, anim.height)
    return result, anim


@pytest.mark.parametrize(
    "fields,size",
    [
        ({}, (320, 240)),
        ({"width": 160}, (160, 120)),
        ({"height": 60}, (80, 60)),
        ({"width": 200, "height": 100}, (200, 100)),
    ],
    ids=["both-0-follow-source", "height-0-keeps-aspect", "width-0-keeps-aspect", "both-given"],
)
def test_zero_sizes_follow_the_source(landscape, tmp_path, fields, size):
    _, anim = render(landscape, tmp_path, **fields)
    assert (anim.width, anim.height) == size
    assert_quadrants(anim.frames[0])


def test_zero_sizes_follow_the_displayed_size_of_a_portrait_clip(portrait, tmp_path):
    _, anim = render(portrait, tmp_path)
    assert (anim.width, anim.height) == (240, 320)
    assert_quadrants(anim.frames[0])


def test_resolution_adaptive_sizes_are_long_and_short_edges(portrait, tmp_path):
    _, anim = render(portrait, tmp_path, width=160, height=120, resolution_adaptive=True)
    assert (anim.width, anim.height) == (120, 160)
    assert_quadrants(anim.frames[0])


def test_resolution_adaptive_with_one_zero_bounds_the_long_edge(portrait, tmp_path):
    _, anim = render(portrait, tmp_path, width=160, height=0, resolution_adaptive=True)
    assert (anim.width, anim.height) == (120, 160)


def test_without_resolution_adaptive_width_means_width(portrait, tmp_path):
    _, anim = render(portrait, tmp_path, width=160, height=0, resolution_adaptive=False)
    assert (anim.width, anim.height) == (160, 213) or (anim.width, anim.height) == (160, 214)


def test_resolution_adaptive_leaves_a_landscape_clip_landscape(landscape, tmp_path):
    _, anim = render(landscape, tmp_path, width=160, height=120, resolution_adaptive=True)
    assert (anim.width, anim.height) == (160, 120)


@pytest.mark.parametrize(
    "fields,size",
    [
        ({"width_percent": 50}, (160, 120)),
        ({"height_percent": 25}, (80, 60)),
        ({"width_percent": 50, "height_percent": 25}, (160, 60)),
    ],
)
def test_percent_sizes_scale_the_source(landscape, tmp_path, fields, size):
    _, anim = render(landscape, tmp_path, **fields)
    assert (anim.width, anim.height) == size


@pytest.mark.parametrize("fmt", ["gif", "webp"])
def test_stretch_gives_exactly_the_box(landscape, tmp_path, fmt):
    _, anim = render(landscape, tmp_path, fmt, width=160, height=160, scale_mode="stretch")
    assert (anim.width, anim.height) == (160, 160)
    frame = anim.frames[0]
    assert not is_black(frame[:8]) and not is_black(frame[-8:])
    assert_quadrants(frame)


def test_fit_gives_the_fitted_size_without_padding(landscape, tmp_path):
    _, anim = render(landscape, tmp_path, width=160, height=160, scale_mode="fit")
    assert (anim.width, anim.height) == (160, 120)
    assert not is_black(anim.frames[0][:8])
    assert_quadrants(anim.frames[0])


@pytest.mark.parametrize("fmt", ["gif", "webp"])
def test_fill_pads_top_and_bottom_with_black_for_a_square_box(landscape, tmp_path, fmt):
    _, anim = render(landscape, tmp_path, fmt, width=160, height=160, scale_mode="fill")
    assert (anim.width, anim.height) == (160, 160)
    frame = anim.frames[0]
    # The 4:3 picture is 160x120 in the middle: 20 black rows above and below.
    assert is_black(frame[:18]) and is_black(frame[-18:])
    assert not is_black(frame[22:30]) and not is_black(frame[-30:-22])
    assert_quadrants(frame, box=(0, 20, 160, 140))


def test_fill_pads_left_and_right_for_a_wide_box(landscape, tmp_path):
    _, anim = render(landscape, tmp_path, width=200, height=90, scale_mode="fill")
    assert (anim.width, anim.height) == (200, 90)
    frame = anim.frames[0]
    # 120x90 picture, 40 black columns each side.
    assert is_black(frame[:, :38]) and is_black(frame[:, -38:])
    assert_quadrants(frame, box=(40, 0, 160, 90))


@pytest.mark.parametrize("fmt", ["gif", "webp"])
def test_crop_covers_the_box_and_cuts_the_sides(landscape, tmp_path, fmt):
    _, anim = render(landscape, tmp_path, fmt, width=160, height=160, scale_mode="crop")
    assert (anim.width, anim.height) == (160, 160)
    frame = anim.frames[0]
    assert not is_black(frame[:8]) and not is_black(frame[-8:])
    assert not is_black(frame[:, :8]) and not is_black(frame[:, -8:])
    assert_quadrants(frame)
    # Covering 160x160 scales the picture to ~213x160 and cuts ~26 px off each side: the yellow
    # bar (which sits at x = 0 on the first frame) is cut off with it.
    with pytest.raises(ValueError):
        clips.read_bar_time(frame, 1.0)


@pytest.mark.parametrize("rotation", [90, 180, 270])
@pytest.mark.parametrize("fmt", ["gif", "webp"])
def test_it_keeps_rotated_video_upright(make_clip, tmp_path, rotation, fmt):
    src = make_clip(width=320, height=240, seconds=1.0, rotation=rotation)
    _, anim = render(src, tmp_path, fmt, width=160, height=0, resolution_adaptive=False)
    expected = (160, 213) if rotation in (90, 270) else (160, 120)
    assert anim.width == expected[0] and abs(anim.height - expected[1]) <= 1
    for frame in anim.frames:
        assert_quadrants(frame)


def test_it_keeps_portrait_video_upright_in_every_scale_mode(portrait, tmp_path):
    for mode in ("stretch", "fit", "fill", "crop"):
        _, anim = render(portrait, tmp_path, width=120, height=120, scale_mode=mode, resolution_adaptive=False)
        box = (15, 0, 105, 120) if mode == "fill" else None
        assert_quadrants(anim.frames[0], box)


def test_it_shows_anamorphic_video_at_its_display_aspect(make_clip, tmp_path):
    src = make_clip(width=240, height=240, seconds=1.0, sar=(4, 3))
    _, anim = render(src, tmp_path)
    assert (anim.width, anim.height) == (320, 240)
    assert_quadrants(anim.frames[0])
    _, anim = render(src, tmp_path, width=160)
    assert (anim.width, anim.height) == (160, 120)


@pytest.mark.parametrize("fmt", ["gif", "webp"])
def test_it_honours_odd_output_sizes(landscape, tmp_path, fmt):
    _, anim = render(landscape, tmp_path, fmt, width=161, height=121)
    assert (anim.width, anim.height) == (161, 121)
    assert_quadrants(anim.frames[0])


def test_it_renders_a_source_with_odd_dimensions(make_clip, tmp_path):
    src = make_clip(codec="libvpx-vp9", width=161, height=121, seconds=1.0)
    _, anim = render(src, tmp_path)
    assert (anim.width, anim.height) == (161, 121)
    assert_quadrants(anim.frames[0])


def test_one_zero_with_an_odd_result_rounds_to_the_nearest_pixel(landscape, tmp_path):
    _, anim = render(landscape, tmp_path, width=33)
    assert anim.width == 33
    assert anim.height in (24, 25)
