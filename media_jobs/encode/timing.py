"""Playback timing (frame delays with spread rounding) and throttled progress reporting."""

from __future__ import annotations

import time
from fractions import Fraction
from typing import Callable


def frame_ticks(count: int, play_rate: Fraction, ticks_per_second: int) -> list[int]:
    """Start tick of each of `count` frames, plus the end tick, for a clock of `ticks_per_second`.

    Rounding each start (not each delay) spreads the error: at 15 fps in centiseconds the delays
    go 7, 6, 7, 7, 6, 7 … and the total is exact, where 1/15 s rounded alone would play at 16.7 fps.
    """
    return [round(Fraction(k * ticks_per_second) / play_rate) for k in range(count + 1)]


class Progress:
    """Calls `callback(fraction)` at most ~10 times a second, never going backwards, 1.0 at the end."""

    def __init__(self, callback: Callable[[float], None] | None, interval: float = 0.1):
        self.callback = callback
        self.interval = interval
        self._last_call = 0.0
        self._last_value = 0.0

    def __call__(self, fraction: float) -> None:
        if self.callback is None:
            return
        fraction = min(1.0, max(self._last_value, fraction))
        now = time.monotonic()
        if fraction < 1.0 and now - self._last_call < self.interval:
            return
        if fraction == self._last_value and self._last_call:
            return
        self._last_call = now
        self._last_value = fraction
        self.callback(fraction)

    def stage(self, lo: float, hi: float) -> Callable[[float], None]:
        """A reporter for one stage of the work that maps its own 0..1 onto lo..hi overall."""
        return lambda fraction: self(lo + (hi - lo) * min(1.0, max(0.0, fraction)))
