"""How an animated WebP's slots are cut into segments and which encoder takes each.

Each segment is encoded by a fresh libwebp encoder into its own file (see `webp`); this module
only decides the cuts, the producer that hands each segment over and the encoder that takes it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .scaler import OutputFormat

ENCODER_THREADS = 2
# Pictures handed to the encoders but not yet encoded, both encoders together.
SEGMENT_BUDGET_BYTES = 32 * 1024 * 1024
# Below this many frames per segment the extra key frames would cost more than the speed-up.
MIN_SEGMENT_FRAMES = 8
# Large pictures are cut into shorter segments than that rather than queue beyond the budget:
# key frames come every 4-5 frames anyway (`webp.py`), so at 4K -> 720p (BGRA) segments of 4
# instead of 8 cost +0.08 % bytes and 22 MB less peak RSS.
MIN_QUEUED_SEGMENT_FRAMES = 4
FIRST_SHARE = 0.6
# Frames moved to the other encoder to even out two decoders' ranges: fewer are not worth a key frame.
MIN_MOVED_FRAMES = 4
# Pictures queued for a segment its producer does not need to get ahead of.
FEED_DEPTH = 8


@dataclass(frozen=True)
class SegmentPlan:
    """Slots `start`..`end`-1, handed over by `producer`, encoded by `encoder`.

    `depth` pictures may wait for the encoder: a whole segment when its producer must go on to
    another segment while this one is encoded, a few otherwise.
    """

    start: int
    end: int
    producer: int
    encoder: int
    depth: int


def _longest(width: int, height: int, fmt: OutputFormat) -> int:
    """The longest segment whose pictures may all wait in a queue: each encoder has one such."""
    frame_bytes = width * height * (4 if fmt.pix_fmt == "bgra" else 3 / 2)
    return max(MIN_QUEUED_SEGMENT_FRAMES, int(SEGMENT_BUDGET_BYTES // (ENCODER_THREADS * max(1.0, frame_bytes))) - 1)


def plan_segments(count: int, width: int, height: int, fmt: OutputFormat,
                  parts: list[int] | None = None) -> list[SegmentPlan]:
    """Cut `count` slots into segments and give each to an encoder.

    `parts` are the first slots of the producers' ranges: `[0]` for one decoder, `[0, k]` when
    a second decoder hands over slots from k on.

    One producer: two segments when both fit the budget. The first encoder starts on the first
    decoded picture, the second only once decoding reaches its first frame, so the first segment
    takes `FIRST_SHARE` of the frames (measured on 480x270 output: the encoders then finish
    within 20 ms of each other, 0.11 s apart with an even split). Longer renders are cut into
    segments as long as the budget allows, handed to the two encoders in turn.

    Two producers: each producer's range goes to an encoder of its own, cut into segments as
    long as the budget allows. Ranges end at the source's key frames, so they are rarely equal;
    when both fit a segment, the longer range's last frames go to the other encoder, which takes
    them after its own range, so both encode about as many frames. Those frames are decoded
    early, so the segment before them is queued whole.

    Pictures with alpha are not cut: a segment's first frame may then cover only part of the
    canvas, and the join could not clear what the previous segment left around it.
    """
    count = max(1, count)
    if fmt.pix_fmt == "yuva420p" or count < 2 * MIN_SEGMENT_FRAMES:
        return [SegmentPlan(0, count, 0, 0, FEED_DEPTH)]
    longest = _longest(width, height, fmt)
    if parts and len(parts) == 2:
        return _two_producers(count, parts[1], longest)
    if count <= 2 * longest:
        first = max(min(longest, count - MIN_SEGMENT_FRAMES, math.ceil(count * FIRST_SHARE)), count - longest)
        return [SegmentPlan(0, first, 0, 0, first + 1), SegmentPlan(first, count, 0, 1, FEED_DEPTH)]
    starts = list(range(0, count, longest))
    ends = [*starts[1:], count]
    return [SegmentPlan(a, b, 0, i % ENCODER_THREADS, b - a + 1) for i, (a, b) in enumerate(zip(starts, ends))]


def _two_producers(count: int, split: int, longest: int) -> list[SegmentPlan]:
    first, second = split, count - split
    moved = abs(second - first) // 2
    if moved >= MIN_MOVED_FRAMES and max(first, second) - moved <= longest:
        if first < second:
            cut = count - moved
            return [SegmentPlan(0, split, 0, 0, FEED_DEPTH), SegmentPlan(split, cut, 1, 1, cut - split + 1),
                    SegmentPlan(cut, count, 1, 0, FEED_DEPTH)]
        cut = split - moved
        return [SegmentPlan(0, cut, 0, 0, cut + 1), SegmentPlan(cut, split, 0, 1, FEED_DEPTH),
                SegmentPlan(split, count, 1, 1, FEED_DEPTH)]
    # Each producer's range on its own encoder, in segments of at most `longest` frames: a
    # segment's encoded frames stay in memory until it closes, so memory does not grow with the
    # clip's length.
    plans = []
    for producer, (start, end) in enumerate(((0, split), (split, count))):
        pieces = math.ceil((end - start) / longest)
        bounds = [start + round(i * (end - start) / pieces) for i in range(pieces + 1)]
        plans += [SegmentPlan(a, b, producer, producer, FEED_DEPTH) for a, b in zip(bounds, bounds[1:])]
    return plans


def encoder_orders(plans: list[SegmentPlan]) -> list[list[int]]:
    """Each encoder's segments, in the order it takes them.

    A producer's first segment comes first: it is what that producer hands over right away, and
    it waits on nothing else. Each encoder then takes the rest in slot order, as each producer
    hands them over, so no producer and encoder wait on each other in a circle.
    """
    producers_first = {}
    for index, plan in enumerate(plans):
        producers_first.setdefault(plan.producer, index)
    firsts = set(producers_first.values())
    orders: list[list[int]] = []
    for encoder in sorted({plan.encoder for plan in plans}):
        mine = [i for i, plan in enumerate(plans) if plan.encoder == encoder]
        orders.append(sorted(mine, key=lambda i: (i not in firsts, i)))
    return orders
