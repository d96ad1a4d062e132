"""GIF output: palettes and dithering with FFmpeg's palettegen/paletteuse, the gif encoder and muxer.

Palette modes:
- "global": one palette for the clip from `palettegen stats_mode=diff` (colours of what moves
  weigh more than a static background), refined by k-means on the clip's pixels (`palette.py`);
  when an opaque clip cuts to another shot, one such palette per shot (a later shot's is a local
  palette). The palette needs every frame before any can be dithered, so the scaled BGRA frames
  are kept in memory when they fit `plan.KEEP_BUDGET_BYTES`.
  Longer or larger outputs decode twice instead (pass 1 feeds palettegen, pass 2 dithers and
  streams), so memory does not grow with the clip's length. (Keeping compact yuv420p copies
  instead saved the second decode but subsampled the chroma at the output size: -0.002 SSIM
  and +2-4 % bytes on 4K -> 720p.)
- "per_frame": `palettegen stats_mode=single` + `paletteuse new=1` per frame, streamed; each
  frame is remapped whole (see `_paletteuse_args`).

Dithering of different frames is independent (FFmpeg filters run without the GIL): kept frames
are dithered in two halves, one per core, and streamed frames (two passes, per-frame palettes) in
chunks on both cores, while the main thread writes finished frames in order. Writing marks the
pixels that can keep what is already shown (`keep.py`) and encodes: both depend on the frames
before, so they happen once, in order.
"""

from __future__ import annotations

import bisect
import os
import queue
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Iterable, Iterator

import av
import av.error
import av.filter
import numpy as np

from .keep import Canvas, packed
from .palette import PixelSample, SceneCuts, bgra_pixels, pixels, refined_palette
from .threads import threaded
from .timing import frame_ticks

# Pixels per frame palettegen looks at (frames above this are shrunk for the statistics only).
# Its median cut is only the start of the k-means refinement, which samples the full pictures:
# 160x90 instead of 640x360 took case A from 2.59 s to 2.01 s at SSIM 0.9702 -> 0.9700.
STATS_MAX_PIXELS = 160 * 90
# Shrinking for the statistics picks pixels instead of averaging them: an average smooths away
# the grain and noise the palette has to cover (area averaging cost 0.0026 SSIM on 4K -> 720p).
STATS_SHRINK_FLAGS = "neighbor"
_CHUNK = 6  # frames per dithering task: small enough to keep both cores busy to the end
_CHUNK_BYTES = 8 * 1024 * 1024  # BGRA bytes per task: large frames go in smaller chunks
_WORKERS = max(1, min(2, os.cpu_count() or 1))
# Frames marked ahead of the GIF writing thread: it is never idle for want of one, and what
# waits is a few small PAL8 frames.
_WRITES_AHEAD = 4
# Kept frames are dithered in two halves only when each has at least this many.
_MIN_HALF = 4

_DITHER_ARGS = {
    "none": "dither=none",
    "bayer": "dither=bayer:bayer_scale=5",
    "floyd_steinberg": "dither=floyd_steinberg",
    "sierra2_4a": "dither=sierra2_4a",
}


BGRA = "pix_fmt=bgra"
# Dithers whose result for a pixel depends only on that pixel's colour and position.
_PIXEL_LOCAL_DITHERS = ("none", "bayer")


def _paletteuse_args(dither: str, per_frame: bool) -> str:
    """paletteuse options for a dither and palette mode.

    `diff_mode=rectangle` remaps only the area that changed since the graph's previous frame and
    copies the other indexes from its previous output. That is only right when the previous
    output used the same palette (not with `new=1`: the copied indexes would point into the
    previous frame's palette) and only repeatable when the copied pixels come out the same
    however the frames are spread over the dithering threads, i.e. for pixel-local dithers (error
    diffusion carries errors across the rectangle's border, so the bytes would depend on which
    frame a thread saw before).
    """
    args = _DITHER_ARGS[dither]
    if per_frame:
        return args + ":new=1"
    if dither in _PIXEL_LOCAL_DITHERS:
        return args + ":diff_mode=rectangle"
    return args


def frame_format_args(frame: av.VideoFrame) -> str:
    """Buffer-source arguments describing `frame`'s pixel format, colour matrix and range."""
    return f"pix_fmt={frame.format.name}:colorspace={int(frame.colorspace)}:range={int(frame.color_range)}"


def _buffer(graph: av.filter.Graph, width: int, height: int, fmt_args: str = BGRA):
    # Frames that are not BGRA (compact yuv420p copies) are converted by the scale filter that
    # FFmpeg inserts in front of palettegen/paletteuse, using the matrix and range given here.
    return graph.add("buffer", f"video_size={width}x{height}:{fmt_args}:time_base=1/100:pixel_aspect=1/1")


class PaletteBuilder:
    """Accumulates colour statistics of BGRA frames; `palette()` returns the 16x16 palette frame.

    Statistics come from frames shrunk to at most `STATS_MAX_PIXELS` (palettegen's cost is per
    pixel), and each frame is processed as it arrives so the work overlaps decoding instead of
    piling up at the end. palettegen's median cut is the start; k-means on a sample of the frames' pixels moves its colours to where the pixels
    are (`palette.py`).
    """

    def __init__(self, width: int, height: int, colors: int, fmt_args: str = BGRA, frames: int = 1):
        graph = av.filter.Graph()
        self._src = _buffer(graph, width, height, fmt_args)
        nodes = [self._src]
        shrink = max(1.0, (width * height / STATS_MAX_PIXELS) ** 0.5)
        if shrink > 1.0:
            small_w, small_h = max(2, round(width / shrink)), max(2, round(height / shrink))
            nodes.append(graph.add("scale", f"w={small_w}:h={small_h}:flags={STATS_SHRINK_FLAGS}"))
        nodes.append(graph.add("palettegen", f"max_colors={colors}:stats_mode=diff:reserve_transparent=1"))
        nodes.append(graph.add("buffersink"))
        graph.link_nodes(*nodes)
        graph.configure()
        self._sink = nodes[-1]
        self._graph = graph
        self._pts = 0
        self._sample = PixelSample(width, height, frames)
        self._cuts = SceneCuts()

    def add(self, frame: av.VideoFrame) -> None:
        frame.pts = self._pts
        self._pts += 1
        self._sample.add(frame)
        self._cuts.add(frame)
        self._src.push(frame)
        try:
            # Filters run when output is requested: ask now so this frame is counted now.
            self._sink.pull()
        except (av.error.BlockingIOError, av.error.EOFError):
            pass

    def median_cut(self) -> av.VideoFrame:
        """palettegen's palette alone (what `palette()` starts from)."""
        self._src.push(None)
        return self._sink.pull()

    def palette(self) -> av.VideoFrame:
        """One palette for every picture."""
        return refined_palette(self.median_cut(), self._sample.pixels())

    def shots(self) -> Shots:
        """A palette per shot of an opaque clip (transparency needs the one-palette path)."""
        starts = self._cuts.starts() if self._sample.opaque else [0]
        if len(starts) == 1:
            return Shots([0], [self.palette()])
        start = self.median_cut()
        ends = starts[1:] + [None]
        return Shots(starts, [refined_palette(start, self._sample.pixels(a, b)) for a, b in zip(starts, ends)])


class Ditherer:
    """Maps BGRA frames to PAL8 with one palette (or a fresh one per frame when `palette` is None)."""

    def __init__(self, width: int, height: int, dither: str, colors: int, palette: av.VideoFrame | None,
                 fmt_args: str = BGRA):
        graph = av.filter.Graph()
        self._src = _buffer(graph, width, height, fmt_args)
        use = graph.add("paletteuse", _paletteuse_args(dither, per_frame=palette is None))
        self._sink = graph.add("buffersink")
        if palette is None:
            split = graph.add("split")
            gen = graph.add("palettegen", f"max_colors={colors}:stats_mode=single:reserve_transparent=1")
            self._src.link_to(split)
            split.link_to(use, 0, 0)
            split.link_to(gen, 1, 0)
            gen.link_to(use, 0, 1)
            use.link_to(self._sink)
            graph.configure()
        else:
            pal_src = _buffer(graph, palette.width, palette.height)
            self._src.link_to(use, 0, 0)
            pal_src.link_to(use, 0, 1)
            use.link_to(self._sink)
            graph.configure()
            palette.pts = 0
            pal_src.push(palette)
            pal_src.push(None)
        self._graph = graph
        self._pts = 0

    def __call__(self, frame: av.VideoFrame) -> av.VideoFrame:
        frame.pts = self._pts
        self._pts += 1
        self._src.push(frame)
        return self._sink.pull()


class GifMuxer:
    """Writes PAL8 frames to a .gif with delays in centiseconds whose total is exact.

    Given the picture each frame was dithered from, a frame's pixels that can keep what is
    already shown are marked with the transparent slot (`keep.Canvas`). Such a frame takes
    FFmpeg's encoder's path for pictures with transparency: it crops to what is not marked, and
    asks for the area to be cleared after showing it, which `_with_disposal` turns back into
    "leave in place".

    Real transparency (a source with alpha) needs a clear canvas under each frame: a transparent
    pixel shows whatever is under it. From the first frame with real transparency on, and for the
    frame before it, frames go to a second encoder that neither crops nor marks, and each is
    cleared after it is shown. FFmpeg's encoder alone left opaque pictures showing through a
    clip that turned transparent, and holes where it turned opaque again.
    """

    def __init__(self, path: str, width: int, height: int, loop: int, play_rate: Fraction, count: int):
        # `loop` is how many times the animation plays (0 = forever); GIF stores repeats after the
        # first play, and no loop extension at all means "play once".
        options = {"loop": "0" if loop == 0 else str(loop - 1 if loop > 1 else -1)}
        self._container = av.open(path, mode="w", format="gif", options=options)
        stream = self._container.add_stream("gif")
        stream.width, stream.height, stream.pix_fmt = width, height, "pal8"
        stream.codec_context.time_base = Fraction(1, 100)
        self._stream = stream
        self._size = (width, height)
        self._ticks = frame_ticks(count, play_rate, 100)
        self._next = 0
        self._canvas = Canvas()
        self._clear: int | None = None  # the global palette's transparent slot (one, or none)
        self._global: bytes | None = None  # the global palette (the first frame's)
        self._pending: tuple[int, av.VideoFrame, av.VideoFrame | None, bool] | None = None
        self._whole: av.CodecContext | None = None  # the encoder for frames over a clear canvas
        # FFmpeg's LZW encoding and the muxing run on a thread of their own (PyAV lets go of the
        # GIL there), in order, while this thread marks the next frame: the two were one serial
        # chain behind the ditherers.
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gif-write")
        self._writes: deque[Future] = deque()
        self.written = 0
        self.centiseconds = 0

    def shows(self, k: int) -> bool:
        """Whether slot k is written: not past the plan, and not shorter than GIF's 1/100 s."""
        return k + 1 < len(self._ticks) and self._ticks[k + 1] > self._ticks[k]

    def write(self, frame: av.VideoFrame, source: av.VideoFrame | None = None) -> None:
        """Take the next slot's `frame`; `source` (BGRA) is what it was dithered from.

        A frame is encoded when the next one comes (or at `close`): whether it must be cleared
        after it is shown depends on the next.
        """
        k = self._next
        self._next += 1
        if not self.shows(k):
            return
        translucent = _translucent(frame)
        if self._pending is not None:
            self._encode(*self._pending, clear_after=translucent)
        self._pending = (k, frame, source, translucent)

    def _encode(self, k: int, frame: av.VideoFrame, source: av.VideoFrame | None, translucent: bool,
                clear_after: bool) -> None:
        if self._global is None:
            self._global = bytes(frame.planes[1])
            clears = _clear_slots(self._global)
            self._clear = clears[0] if len(clears) == 1 else None
        if self._whole is None and (clear_after or translucent):
            self._drain()  # the whole-frame encoder's set-up reads how much is written
            self._whole = self._whole_encoder()
        if self._whole is not None:
            out = _copy(frame, pixels(frame, 1)[..., 0])
            self._write(k, out, self._whole, lambda packet: _with_disposal(
                _without_header(packet) if self.written else packet, _DISPOSE_BACKGROUND, self._clear))
            return
        out, kept = self._marked(frame, source)
        self._write(k, out, self._stream, (lambda packet: _with_disposal(packet, _DISPOSE_NONE)) if kept else None)

    def _write(self, k: int, out: av.VideoFrame, encoder, fix: Callable[[av.Packet], av.Packet] | None) -> None:
        """Encode and mux slot k's `out` on the writing thread, after the slots before it."""
        out.pts, out.time_base = self._ticks[k], Fraction(1, 100)

        def write() -> None:
            for packet in encoder.encode(out):
                self.mux(k, fix(packet) if fix else packet)

        self._writes.append(self._writer.submit(write))
        while len(self._writes) > _WRITES_AHEAD:
            self._writes.popleft().result()

    def _drain(self) -> None:
        while self._writes:
            self._writes.popleft().result()

    def _whole_encoder(self) -> av.CodecContext:
        """An encoder that writes every frame whole, unmarked, knowing the file's global palette."""
        encoder = av.CodecContext.create("gif", "w")
        encoder.width, encoder.height = self._size
        encoder.pix_fmt = "pal8"
        encoder.time_base = Fraction(1, 100)
        encoder.options = {"gifflags": "0"}  # no cropping to what changed, no marking of it
        if self.written:
            # Its first frame sets its global palette: that must be the file's (this packet,
            # a whole file header, is dropped).
            first = av.VideoFrame(*self._size, "pal8")
            first.planes[1].update(self._global)
            first.pts, first.time_base = 0, Fraction(1, 100)
            encoder.encode(first)
        return encoder

    def _marked(self, frame: av.VideoFrame, source: av.VideoFrame | None) -> tuple[av.VideoFrame, bool]:
        """A copy of `frame` with the pixels that keep the shown picture marked, and whether any are."""
        indexes = pixels(frame, 1)[..., 0]
        palette = frame.planes[1]
        # Marks only in the slot the encoder takes for transparency (the global palette's).
        clear = self._clear if source is not None and _clear_slots(palette) == [self._clear] else None
        src = None if source is None else bgra_pixels(source)
        marked, kept = self._canvas.mark(src, indexes, packed(palette), clear)
        return _copy(frame, marked), kept

    def mux(self, k: int, packet: av.Packet) -> None:
        """Write slot k's packet; slots come in order."""
        delay = self._ticks[k + 1] - self._ticks[k]
        packet.stream = self._stream
        packet.pts = packet.dts = self._ticks[k]
        packet.duration = delay
        packet.time_base = Fraction(1, 100)
        self._container.mux(packet)
        self.written += 1
        self.centiseconds += delay

    def close(self) -> None:
        if self._pending is not None:
            self._encode(*self._pending, clear_after=False)
            self._pending = None
        try:
            self._drain()
        finally:
            self._writer.shutdown()
        self._container.close()

    def abort(self) -> None:
        for write in self._writes:
            write.cancel()
        self._writer.shutdown(wait=True)
        try:
            self._container.close()
        except av.error.FFmpegError:
            pass


def _translucent(frame: av.VideoFrame) -> bool:
    """Whether a PAL8 frame shows any of its palette's transparent entries."""
    indexes = pixels(frame, 1)[..., 0]
    return any((indexes == c).any() for c in _clear_slots(frame.planes[1]))


def _copy(frame: av.VideoFrame, indexes: np.ndarray) -> av.VideoFrame:
    """`indexes` with `frame`'s palette, in a frame of our own.

    Always a new frame: FFmpeg's GIF encoder sizes its buffer for local palettes by the first
    such frame's line size, so every frame must have the same.
    """
    out = av.VideoFrame(frame.width, frame.height, "pal8")
    pixels(out, 1)[..., 0] = indexes
    out.planes[1].update(bytes(frame.planes[1]))
    return out


def chunk_frames(width: int, height: int) -> int:
    """Frames per dithering task for a picture size: bounds the frames in flight to ~40 MB."""
    return max(1, min(_CHUNK, _CHUNK_BYTES // max(1, width * height * 4)))


def dither_in_order(frames: Iterable[av.VideoFrame], make_ditherer: Callable[[int], Ditherer],
                    sink: Callable[[av.VideoFrame, av.VideoFrame], None], chunk_size: int = _CHUNK,
                    shot_of: Callable[[int], int] = lambda k: 0) -> None:
    """Dither `frames` on both cores in chunks; `sink(dithered, frame)` gets them in their order.

    Picture k is dithered by `make_ditherer(shot_of(k))`, one per thread and shot.
    A helper thread takes the frames and hands out chunks, so this thread writes each chunk as
    soon as it is dithered: a chunk's pictures are held until then (at 4K -> 720p, holding them
    while this thread waited for the decoder cost 33 MB).
    """
    local = _ThreadLocalDitherer(make_ditherer, shot_of)
    with ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="gif-dither") as pool:
        def submitted() -> Iterator[tuple[list[av.VideoFrame], Future]]:
            start = 0
            for chunk in _chunks(frames, chunk_size):
                yield chunk, pool.submit(local.run, start, chunk)
                start += len(chunk)

        # At most 2 x _WORKERS chunks in flight, as many as keep both cores busy to the end.
        for chunk, future in threaded(submitted(), depth=_WORKERS):
            for source, out in zip(chunk, future.result()):
                sink(out, source)


@dataclass
class Shots:
    """The first picture of each shot and the shot's palette (one shot: one palette for all)."""

    starts: list[int]
    palettes: list[av.VideoFrame]

    def of(self, k: int) -> int:
        return bisect.bisect_right(self.starts, k) - 1


def dither_encode_halves(frames: list[av.VideoFrame], make_ditherer: Callable[[int], Ditherer],
                         muxer: GifMuxer, shots: Shots,
                         progress: Callable[[float], None] = lambda fraction: None) -> None:
    """Dither kept frames (slots 0, 1, ... in order) in two halves, one per core; write them in order.

    Each half has a ditherer per shot (the first shot's palette is the GIF's global palette, a
    later shot's is written as a local palette). The second half's ditherer is first shown the
    picture before its first one, as paletteuse's diff mode would have seen it in one pass.
    Writing (marking what can stay, encoding) happens on this thread, in order, as frames come.
    """
    count = len(frames)
    middle = count // 2 if _WORKERS > 1 and count >= 2 * _MIN_HALF else count
    halves = [(0, middle, queue.Queue())]
    if middle < count:
        halves.append((middle, count, queue.Queue()))

    def dither(start: int, end: int, out: queue.Queue) -> None:
        try:
            per_shot = _PerShot(make_ditherer, shots.of)

            def one(k: int) -> av.VideoFrame:
                return per_shot(k, frames[k])

            if start > 0 and shots.of(start - 1) == shots.of(start):
                one(start - 1)
            for k in range(start, end):
                out.put((k, one(k)))
        except BaseException as exc:  # handed to the writing thread, which raises it
            out.put(exc)
        finally:
            out.put(None)

    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="gif-dither") as pool:
        for start, end, out in halves:
            pool.submit(dither, start, end, out)
        for _, _, out in halves:
            while (item := out.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                k, picture = item
                muxer.write(picture, frames[k])
                progress((k + 1) / count)


def _clear_slots(palette: bytes | memoryview | av.video.plane.VideoPlane) -> list[int]:
    """Indexes of the fully transparent entries of a PAL8 palette (256 B, G, R, A entries)."""
    return np.flatnonzero(np.frombuffer(palette, np.uint8, count=1024)[3::4] == 0).tolist()


_GCE = b"\x21\xf9\x04"  # graphic control extension: introducer, label, block size
_DISPOSE_NONE, _DISPOSE_BACKGROUND = 1, 2


def _with_disposal(packet: av.Packet, disposal: int, transparent: int | None = None) -> av.Packet:
    """A frame packet with its graphic control extension's disposal set to `disposal`.

    With `transparent`, a frame without a transparent colour gets that one (unused by the frame):
    decoders clear to it when disposing "to background" (FFmpeg's and Pillow's to the background
    colour otherwise, which is opaque; browsers always clear).
    """
    at = _header_size(packet)  # the file's first frame comes after the file's header
    head = bytes(memoryview(packet)[at:at + 4])
    if head[:3] != _GCE:
        return packet
    flags = (head[3] & ~(7 << 2)) | (disposal << 2)
    add_transparent = transparent is not None and not head[3] & 1
    if flags == head[3] and not add_transparent:
        return packet
    patched = bytearray(bytes(packet))
    patched[at + 3] = flags | (1 if add_transparent else 0)
    if add_transparent:
        patched[at + 6] = transparent
    return av.Packet(bytes(patched))


def _without_header(packet: av.Packet) -> av.Packet:
    """A first packet of an encoder of its own, without the file header it starts with."""
    size = _header_size(packet)
    return av.Packet(bytes(packet)[size:]) if size else packet


def _header_size(packet: av.Packet) -> int:
    """The length of the file header (signature, screen descriptor, global palette) `packet`
    starts with, or 0."""
    head = bytes(memoryview(packet)[:13])
    if head[:6] != b"GIF89a":
        return 0
    flags = head[10]
    return 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)


class _PerShot:
    """Dithers picture k with the ditherer of its shot, each made when its shot first comes."""

    def __init__(self, factory: Callable[[int], Ditherer], shot_of: Callable[[int], int]):
        self._factory = factory
        self._shot_of = shot_of
        self._ditherers: dict[int, Ditherer] = {}

    def __call__(self, k: int, frame: av.VideoFrame) -> av.VideoFrame:
        shot = self._shot_of(k)
        if shot not in self._ditherers:
            self._ditherers[shot] = self._factory(shot)
        return self._ditherers[shot](frame)


class _ThreadLocalDitherer:
    """One `_PerShot` (filter graphs) per worker thread; a graph is not safe to share."""

    def __init__(self, factory: Callable[[int], Ditherer], shot_of: Callable[[int], int]):
        self._factory = factory
        self._shot_of = shot_of
        self._local = threading.local()

    def run(self, start: int, chunk: list[av.VideoFrame]) -> list[av.VideoFrame]:
        per_shot = getattr(self._local, "per_shot", None)
        if per_shot is None:
            per_shot = self._local.per_shot = _PerShot(self._factory, self._shot_of)
        return [per_shot(k, frame) for k, frame in enumerate(chunk, start)]


def _chunks(frames: Iterable[av.VideoFrame], size: int) -> Iterator[list[av.VideoFrame]]:
    chunk: list[av.VideoFrame] = []
    for frame in frames:
        chunk.append(frame)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@dataclass
class KeptFrames:
    """A GIF's kept pictures and their shots' palettes, ready to dither and encode."""

    pictures: list[av.VideoFrame]
    shots: Shots
    fmt_args: str
    dither: str
    colors: int

    def encode(self, muxer: GifMuxer, progress: Callable[[float], None]) -> None:
        picture = self.pictures[0]
        dither_encode_halves(self.pictures, lambda shot: Ditherer(picture.width, picture.height, self.dither,
                                                                  self.colors, self.shots.palettes[shot],
                                                                  self.fmt_args),
                             muxer, self.shots, progress)
