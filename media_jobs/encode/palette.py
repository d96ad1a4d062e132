"""A global GIF palette refined by k-means on a sample of the clip's own pixels.

FFmpeg's palettegen splits colour space by median cut: quick, but its boxes' averages are not
where the pixels are. A few Lloyd iterations (assign every sampled pixel to its nearest colour,
move each colour to the mean of its pixels) from that start lower the colour error a third on the
benchmark's clip (RGB MSE 18.4 -> 12.2) and raise SSIM by 0.004-0.005 at 0.5-1 % more bytes
(`bench.run`; issue 17's note has the figures). 64,000 samples and 6 iterations gained as much
as 100,000 and 8. Each distinct colour is one weighted point: 72,000 samples of case A take 58 ms
instead of 115, of the GoPro case (14,975 distinct colours) 28 ms instead of 156.

The sample is a grid of pixels per frame, shifted from frame to frame, so a render gives the
same bytes every time; memory is bounded however long the clip.

A clip whose pictures cut to another shot (another colour grade) gets a palette per shot
(`SceneCuts`): each starts from the clip's median cut and is refined on that shot's pixels alone.
"""

from __future__ import annotations

import math

import av
import numpy as np

SAMPLE_TARGET = 64_000  # sampled pixels the refinement works on
MIN_PER_FRAME = 1024  # a long clip still samples every frame
ITERATIONS = 6
_CHUNK = 8192  # samples per distance matrix (8192 x 256 float32 = 8 MB)


def pixels(frame: av.VideoFrame, channels: int) -> np.ndarray:
    """Plane 0 of `frame` as a height x width x channels array (a view, without the row padding)."""
    plane = frame.planes[0]
    rows = np.frombuffer(plane, np.uint8).reshape(frame.height, plane.line_size)
    return rows[:, :frame.width * channels].reshape(frame.height, frame.width, channels)


def bgra_pixels(frame: av.VideoFrame) -> np.ndarray:
    """`frame` as a height x width x 4 array of B, G, R, A (converted when it is not BGRA)."""
    return pixels(frame if frame.format.name == "bgra" else frame.reformat(format="bgra"), 4)


class PixelSample:
    """Opaque pixels of the frames seen so far, a grid of them per frame (RGB, float32)."""

    def __init__(self, width: int, height: int, frames: int):
        per_frame = max(MIN_PER_FRAME, math.ceil(SAMPLE_TARGET / max(1, frames)))
        self._step = max(1, math.isqrt(max(1, width * height // per_frame)))
        self._parts: list[np.ndarray] = []
        self._count = 0
        # Whether every sampled pixel so far was opaque (no transparency to keep).
        self.opaque = True

    def add(self, frame: av.VideoFrame) -> None:
        step, k = self._step, len(self._parts)
        # A different phase per frame: the grid does not sample the same spots every time.
        grid = bgra_pixels(frame)[(k * 3) % step::step, (k * 7) % step::step].reshape(-1, 4)
        opaque = grid[grid[:, 3] >= 128]
        self.opaque = self.opaque and bool((grid[:, 3] == 255).all())
        self._parts.append(opaque[:, [2, 1, 0]].astype(np.float32))
        self._count += len(opaque)
        if self._count > 2 * max(SAMPLE_TARGET, MIN_PER_FRAME * 64):
            # More frames came than announced: thin out what is kept, evenly.
            self._parts = [part[::2] for part in self._parts]
            self._count = sum(len(part) for part in self._parts)

    def pixels(self, start: int = 0, end: int | None = None) -> np.ndarray:
        """The samples of frames start..end-1 (all by default)."""
        parts = self._parts[start:end]
        return np.concatenate(parts) if parts else np.empty((0, 3), np.float32)


def refine(colours: np.ndarray, samples: np.ndarray, iterations: int = ITERATIONS) -> np.ndarray:
    """Lloyd's k-means from `colours` (N x 3) over `samples` (M x 3 RGB, whole numbers 0-255);
    returns the moved colours.

    Each distinct colour among the samples is one point weighted by how often it occurs: video
    repeats colours (72,000 samples of the GoPro case hold 14,975), and a colour's distances are
    worked out once instead of once per copy. A colour no sample is nearest to moves to the
    worst served sample so far (a shot's palette starts from the whole clip's colours, many of
    them absent from the shot); after the last iteration it stays where it was.
    """
    centres = colours.astype(np.float32)
    if len(samples) == 0 or len(centres) == 0:
        return colours
    points, weights = _distinct(samples)
    # Squared distance minus |x|^2 (the same for every centre) as one product: [x, 1] @ [-2c; |c|^2].
    augmented = np.empty((len(points), 4), np.float32)
    augmented[:, :3] = points
    augmented[:, 3] = 1.0
    nearest = np.empty(len(points), np.intp)
    closest = np.empty(len(points), np.float32)
    norms = (points * points).sum(axis=1)
    for iteration in range(iterations):
        weighting = np.empty((4, len(centres)), np.float32)
        weighting[:3] = -2.0 * centres.T
        weighting[3] = (centres * centres).sum(axis=1)
        for start in range(0, len(points), _CHUNK):
            distances = augmented[start:start + _CHUNK] @ weighting
            np.argmin(distances, axis=1, out=nearest[start:start + _CHUNK])
            closest[start:start + _CHUNK] = np.take_along_axis(
                distances, nearest[start:start + _CHUNK, None], axis=1)[:, 0]
        counts = np.bincount(nearest, weights=weights, minlength=len(centres))
        used = counts > 0
        for channel in range(3):
            sums = np.bincount(nearest, weights=weights * points[:, channel], minlength=len(centres))
            centres[used, channel] = sums[used] / counts[used]
        unused = np.flatnonzero(~used)
        if len(unused) and iteration < iterations - 1:
            # The worst served pixels, a colour once per pixel showing it (as without the
            # grouping): the first few may all be one colour, which then wins one slot.
            order = np.argsort(closest + norms, kind="stable")[::-1][:len(unused)]
            worst = np.repeat(order, weights[order])[:len(unused)]
            centres[unused[:len(worst)]] = points[worst]
    return np.clip(np.rint(centres), 0, 255).astype(np.uint8)


def _distinct(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct RGB colours of `samples` (float32, ascending) and how often each occurs."""
    rgb = np.clip(samples, 0, 255).astype(np.uint32)
    keys, counts = np.unique((rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2], return_counts=True)
    points = np.empty((len(keys), 3), np.float32)
    points[:, 0] = keys >> 16
    points[:, 1] = (keys >> 8) & 0xFF
    points[:, 2] = keys & 0xFF
    return points, counts


def refined_palette(palette: av.VideoFrame, samples: np.ndarray) -> av.VideoFrame:
    """palettegen's 16x16 palette frame with its opaque colours refined on `samples` (M x 3 RGB)."""
    entries = palette.to_ndarray().reshape(-1, 4).copy()  # B, G, R, A per entry
    opaque = np.flatnonzero(entries[:, 3] == 255)
    # palettegen pads a palette of fewer colours with copies of one; a copy moved on its own
    # would add a colour the template did not ask for, so each distinct colour moves once.
    distinct, copies = np.unique(entries[opaque][:, [2, 1, 0]], axis=0, return_inverse=True)
    entries[opaque[:, None], [2, 1, 0]] = refine(distinct, samples)[copies.reshape(-1)]
    return av.VideoFrame.from_ndarray(entries.reshape(palette.height, palette.width, 4), format="bgra")


class SceneCuts:
    """Where the pictures cut to another shot, from a coarse grid of each picture as it comes.

    A cut is a picture that differs from the one before by more than `RATIO` times the clip's
    median change and by at least `FLOOR` levels on average: a camera pan with film grain
    changes about 16 levels a picture, a cut about 45 (the benchmark's clip). Shots shorter
    than `MIN_FRAMES` join the one before (a flash is not worth a palette).
    """

    RATIO = 2.5
    FLOOR = 20.0
    MIN_FRAMES = 4
    _STEP = 8

    def __init__(self) -> None:
        self._last: np.ndarray | None = None
        self._changes: list[float] = []

    def add(self, frame: av.VideoFrame) -> None:
        grid = bgra_pixels(frame)[::self._STEP, ::self._STEP, :3].astype(np.int16)
        if self._last is not None:
            self._changes.append(float(np.abs(grid - self._last).mean()))
        self._last = grid

    def starts(self) -> list[int]:
        """The first picture of every shot: [0] for a single shot."""
        if not self._changes:
            return [0]
        limit = max(self.RATIO * float(np.median(self._changes)), self.FLOOR)
        starts = [0]
        for k, change in enumerate(self._changes, start=1):
            if change > limit and k - starts[-1] >= self.MIN_FRAMES and len(self._changes) + 1 - k >= self.MIN_FRAMES:
                starts.append(k)
        return starts
