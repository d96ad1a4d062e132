"""Threads for decoding: two decoders over one range, their pictures in slot order, a decoder
running ahead of its consumer. Nothing here knows what the pictures are for."""

from __future__ import annotations

import queue
import threading
from typing import Callable, Iterator, TypeVar

import av

from .frames import FrameSource

T = TypeVar("T")


class OneDecoderOnly(Exception):
    """The range turned out not to split: the second decoder's key frame gave no picture, or the
    pictures have alpha (a WebP segment could not clear what the previous one left)."""


class TwoDecoders:
    """Two decoding threads. `wait` returns when both are done, or raises the first error at once
    (the caller then unblocks whatever the other thread waits on, and calls `stop`)."""

    def __init__(self):
        self.stopped = threading.Event()
        self.first: tuple[int, FrameSource] | None = None  # slots emitted, decoder
        self.second: tuple[int, int, FrameSource] | None = None  # first slot, slots emitted, decoder
        self.error: BaseException | None = None
        self._threads: list[threading.Thread] = []
        self._over = threading.Event()
        self._lock = threading.Lock()
        self._running = 0

    def start(self, *targets: Callable[[], None]) -> None:
        self._running = len(targets)
        for i, target in enumerate(targets):
            thread = threading.Thread(target=self._guarded, args=(target,), name=f"decode-{i + 1}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def _guarded(self, target: Callable[[], None]) -> None:
        try:
            target()
        except BaseException as exc:  # noqa: BLE001 - re-raised by wait()
            with self._lock:
                if self.error is None:
                    self.error = exc
            self.stopped.set()
            self._over.set()
        finally:
            with self._lock:
                self._running -= 1
                if self._running == 0:
                    self._over.set()

    def finished(self) -> bool:
        return self._over.is_set()

    def stop(self) -> None:
        self.stopped.set()
        for thread in self._threads:
            thread.join()

    def raise_error(self) -> None:
        """Raise a thread's error, if any, without keeping it: kept, its traceback (frames holding
        the decoders) and this object would form a cycle that keeps FFmpeg's threads alive."""
        error, self.error = self.error, None
        if error is not None:
            raise error

    def wait(self) -> tuple[int, FrameSource | None]:
        """Slots emitted (up to the first gap) and the decoder whose end decided the range's end."""
        self._over.wait()
        self.raise_error()
        for thread in self._threads:
            thread.join()
        emitted, source = self.first if self.first is not None else (0, None)
        if self.second is not None and emitted >= self.second[0]:
            emitted, source = self.second[1], self.second[2]
        return emitted, source


class InOrder:
    """Pictures handed over by two decoding threads, taken out in slot order."""

    def __init__(self):
        self._items: dict[int, av.VideoFrame] = {}
        self._changed = threading.Condition()

    def put(self, part: int, k: int, picture: av.VideoFrame) -> None:
        with self._changed:
            self._items[k] = picture
            self._changed.notify()

    def end(self, part: int) -> None:
        with self._changed:
            self._changed.notify()

    def pictures(self, count: int, run: TwoDecoders) -> Iterator[av.VideoFrame]:
        """Slots 0.. in order, up to `count` or the first slot no decoder delivered."""
        for k in range(count):
            with self._changed:
                while k not in self._items:
                    run.raise_error()
                    if run.finished():
                        return
                    self._changed.wait(0.05)
                picture = self._items.pop(k)
            yield picture


_DONE = object()
_QUEUE_BYTES = 24 * 1024 * 1024  # decoded-ahead BGRA pictures waiting for the encoder


def depth(width: int, height: int) -> int:
    """How many scaled pictures the decoding thread may run ahead: 8, fewer for large ones."""
    return max(2, min(8, _QUEUE_BYTES // max(1, width * height * 4)))



def threaded(items: Iterator[T], depth: int = 8) -> Iterator[T]:
    """Run an iterator in a helper thread, `depth` items ahead: decoding overlaps encoding.

    Exceptions raised in the helper are re-raised here; abandoning the generator stops the helper.
    """
    channel: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        channel.put((True, item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            channel.put((True, _DONE))
        except BaseException as exc:  # handed to the consumer, which re-raises it
            channel.put((False, exc))

    worker = threading.Thread(target=produce, name="decode", daemon=True)
    worker.start()
    try:
        while True:
            ok, item = channel.get()
            if not ok:
                raise item
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        while worker.is_alive():
            try:
                channel.get(timeout=0.1)
            except queue.Empty:
                pass
        worker.join()
