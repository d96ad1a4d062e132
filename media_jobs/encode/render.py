"""render(path, spec, out): an animated GIF or WebP from a range of a video.

The pipeline: resolve the time range against the probed duration, seek and pick frames by
timestamp (`frames`), scale/turn/crop in FFmpeg (`scaler`), then palette + dither + encode
(`gif`) or encode (`webp`). Decoding runs in threads of its own, overlapping the encoders; where
the source has a key frame inside the range, a second decoder takes the range from there (one
H.264 decoder cannot keep two cores busy). The file is written under a temporary name beside `out`
and renamed into place only when complete.
"""

from __future__ import annotations

import os
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, TypeVar

import av
import av.container
import av.error

from . import budget
from .errors import EncodeError, ErrorCode
from .frames import FrameSource, rewind
from .geometry import Layout, plan_layout
from .probe import Orientation, frame_sar, rotation_cw
from .plan import KEEP_BUDGET_BYTES, RenderPlan, Written, has_alpha, render_result
from .results import RenderResult
from .scaler import OutputFormat, Scaler
from .source import named_errors, open_input, open_sized
from .spec import RenderSpec
from .threads import InOrder, OneDecoderOnly, TwoDecoders, depth, threaded
from .timing import Progress
from .webp import WebpMuxer, webp_format
from .webpfile import frame_durations

if TYPE_CHECKING:
    from .gif import GifMuxer, KeptFrames

T = TypeVar("T")


def temp_path_for(out: str | os.PathLike) -> str:
    """A hidden temporary name in the same directory as `out`, so the final rename is atomic."""
    directory, name = os.path.split(os.path.abspath(os.fspath(out)))
    return os.path.join(directory, f".{name}.{uuid.uuid4().hex[:12]}.part")


def remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def render(path: str | os.PathLike, spec: RenderSpec, out: str | os.PathLike,
           progress: Callable[[float], None] | None = None) -> RenderResult:
    """Render `spec` of the video at `path` to `out`; raise EncodeError with a named code on failure."""
    spec.validate()
    tmp = temp_path_for(out)
    try:
        result = render_to_temp(path, spec, out, tmp, progress)
    except BaseException:
        remove_quietly(tmp)
        raise
    return result


def render_to_temp(path: str | os.PathLike, spec: RenderSpec, out: str | os.PathLike, tmp: str,
                   progress: Callable[[float], None] | None = None) -> RenderResult:
    """Render into `tmp`, then move it to `out`. The caller removes `tmp` if this fails.

    With a size budget, a result over it is rendered again down the budget's ladder until one
    fits; none fitting is ResourceLimitExceeded (nothing over budget is ever moved to `out`)."""
    spec.validate()
    directory = os.path.dirname(os.path.abspath(os.fspath(out)))
    if not os.path.isdir(directory):
        raise EncodeError(ErrorCode.RESOURCE_NOT_FOUND, f"the output directory does not exist: {directory}")
    report = Progress(progress)
    result = _render_once(path, spec, tmp, report)
    if spec.max_size_kb and result.size > spec.max_size_kb * 1024:
        result = budget.fit(spec, result, lambda cheaper: _render_once(path, cheaper, tmp, Progress(None)))
    os.replace(tmp, os.fspath(out))
    report(1.0)
    return result


def _render_once(path: str | os.PathLike, spec: RenderSpec, tmp: str, report: Progress) -> RenderResult:
    with named_errors("rendering"), open_sized(path) as container:
        job = _Job(path, container, spec, tmp, report)
        written = job.run()
    ended_early = job.source is not None and job.source.stats.ended_early
    return render_result(job.decided, tmp, written, job.emitted, ended_early)


class _Job:
    """One render: the range, the slot plan, and the writer for the chosen format."""

    def __init__(self, path: str | os.PathLike, container: av.container.InputContainer, spec: RenderSpec,
                 tmp: str, report: Progress):
        self.path = path
        self.spec = spec
        self.tmp = tmp
        self.report = report
        self.container = container
        self.decided = RenderPlan(container, spec)
        self.stream, self.origin = self.decided.stream, self.decided.origin
        self.plan = self.decided.slots
        self.play_rate = self.decided.play_rate
        self.source: FrameSource | None = None
        self.emitted = 0

    # Frames -----------------------------------------------------------------------------------

    def _slots(self, container: av.container.InputContainer, stream) -> tuple[Iterator, av.VideoFrame, FrameSource]:
        source = FrameSource(container, stream, self.origin)
        slots = source.slots(self.plan)
        first = next(slots, None)
        if first is None:
            detail = f": {source.stats.errors[-1]}" if source.stats.errors else ""
            raise EncodeError(ErrorCode.DECODE_FAILED,
                              f"no picture could be decoded in the requested range{detail}")
        return slots, first, source

    def _scaled(self, first: tuple[int, av.VideoFrame], slots: Iterator, scaler: Scaler,
                report: Callable[[float], None]) -> Iterator[av.VideoFrame]:
        emitted = 0
        for k, picture in _scale_each(first, slots, scaler):
            emitted = k + 1
            report(emitted / self.plan.count)
            yield picture
        self.emitted = emitted

    def _layout(self, frame: av.VideoFrame) -> tuple[Layout, int]:
        orientation = Orientation(rotation_cw(frame), frame_sar(frame, self.stream))
        display_w, display_h = orientation.display_size(frame.width, frame.height)
        return plan_layout(self.spec, display_w, display_h), orientation.rotate

    # Formats ----------------------------------------------------------------------------------

    def run(self) -> Written:
        if self.decided.wants_second_decoder():
            try:
                if self.spec.format == "webp":
                    return self._webp_two_decoders()
                if self.spec.palette_mode != "per_frame" and self.decided.keeps_frames():
                    return self._gif_kept_two_decoders()
            except OneDecoderOnly:
                # Found out only once decoding: all over again, with one decoder.
                rewind(self.container, self.stream)
        slots, first, self.source = self._slots(self.container, self.stream)
        layout, rotate = self._layout(first[1])
        if self.spec.format == "webp":
            return self._webp(first, slots, layout, rotate)
        return self._gif(first, slots, layout, rotate)

    def _two_decoders(self, setup: Callable[[av.VideoFrame, list[int]], tuple[Layout, int, OutputFormat]],
                      sink: Callable[[int, int, av.VideoFrame], None],
                      end: Callable[[int], None]) -> TwoDecoders:
        """Start decoding the plan with two decoders, each in a thread of its own.

        The first decodes from the start up to where the second (a second opening of the file)
        takes over at a key frame. `setup(frame, parts)` runs once, with whichever decoder's first
        frame comes first and the first slot of each part (`[0]` when the second decoder found
        nowhere to start: the first then goes on alone); it returns how to scale.
        `sink(part, k, picture)` gets each slot's picture, in slot order within a part, from that
        part's thread; `end(part)` follows a part's last picture. Should the second decoder find
        no picture where it starts, `wait` raises `OneDecoderOnly`.
        """
        plan = self.plan
        run = TwoDecoders()
        decided = threading.Event()  # where the second decoder starts is known (or that it does not)
        lock = threading.Lock()
        state: dict = {"split": None}

        def scaler_for(frame: av.VideoFrame) -> Scaler:
            with lock:
                if run.stopped.is_set():
                    raise EncodeError(ErrorCode.INTERNAL_ERROR, "the render was stopped")
                if "scaling" not in state:
                    state["scaling"] = setup(frame, [0, state["split"][0]] if state["split"] else [0])
                return Scaler(*state["scaling"])

        def feed(part: int, first, slots, stop_at: int) -> int:
            emitted = 0
            for k, picture in _scale_each(first, slots, scaler_for(first[1])):
                if k >= stop_at or run.stopped.is_set():
                    break
                sink(part, k, picture)
                emitted = k + 1
            if not run.stopped.is_set():
                end(part)
            return emitted

        def first_part() -> None:
            slots, first, source = self._slots(self.container, self.stream)
            decided.wait()
            run.first = (feed(0, first, slots, state["split"][0] if state["split"] else plan.count), source)

        def second_part() -> None:
            try:
                with open_input(self.path, light=True) as container:
                    try:
                        split = self.decided.second_decoder(container)
                    except (EncodeError, av.error.FFmpegError):
                        split = None  # the first decoder can do without it
                    state["split"] = split
                    decided.set()
                    if split is None:
                        return
                    source = FrameSource(container, container.streams[self.stream.index], self.origin)
                    slots = source.slots(plan, first=split[0], seek=split[1])
                    first = next(slots, None)
                    if first is None:
                        raise OneDecoderOnly()
                    run.second = (split[0], feed(1, first, slots, plan.count), source)
            except (EncodeError, av.error.FFmpegError):
                if not decided.is_set():
                    return  # the second opening failed: the first decoder can do without it
                raise
            finally:
                decided.set()

        run.start(first_part, second_part)
        return run

    def _webp_two_decoders(self) -> Written:
        """WebP from two decoders, each handing its pictures to the muxer through a feed of its own."""
        state: dict = {}

        def setup(frame: av.VideoFrame, parts: list[int]) -> tuple[Layout, int, OutputFormat]:
            if len(parts) > 1 and has_alpha(frame.format.name):
                raise OneDecoderOnly()
            layout, rotate = self._layout(frame)
            fmt = webp_format(self.spec.lossless, has_alpha(frame.format.name))
            muxer = WebpMuxer(self.tmp, layout.out_w, layout.out_h, fmt, quality=self.spec.quality,
                              lossless=self.spec.lossless, loop=self.spec.loop, play_rate=self.play_rate,
                              count=self.plan.count, parts=parts, progress=self.report.stage(0, 0.97))
            state.update(muxer=muxer, feeds=[muxer.feed(0), muxer.feed(1)], layout=layout)
            return layout, rotate, fmt

        run = self._two_decoders(setup, lambda part, k, picture: state["feeds"][part].write(k, picture),
                                 lambda part: state["feeds"][part].end())
        try:
            self.emitted, self.source = run.wait()
            state["muxer"].close()
        except BaseException:
            run.stopped.set()
            if "muxer" in state:
                state["muxer"].abort()  # a decoder waiting on an encoder gets an error and ends
            run.stop()
            if "muxer" in state:
                state["muxer"].abort()  # made by a decoder meanwhile
            raise
        stored = frame_durations(self.tmp)
        return Written(len(stored), sum(stored), 1000, state["layout"].out_w, state["layout"].out_h)

    def _gif_kept_two_decoders(self) -> Written:
        """A global-palette GIF from two decoders: the palette takes the pictures in slot order."""
        spec = self.spec
        ordered = InOrder()
        state: dict = {}

        def setup(frame: av.VideoFrame, parts: list[int]) -> tuple[Layout, int, OutputFormat]:
            layout, rotate = self._layout(frame)
            state["layout"] = layout
            return layout, rotate, OutputFormat("bgra")

        run = self._two_decoders(setup, ordered.put, ordered.end)
        from .gif import GifMuxer  # numpy and the GIF writer load for GIF renders only (WebP: -50 ms)

        muxer: GifMuxer | None = None
        try:
            report = self.report.stage(0, 0.6)
            kept = self._kept_with_palette(_reporting(ordered.pictures(self.plan.count, run), report,
                                                      self.plan.count))
            _, self.source = run.wait()
            self.emitted = len(kept.pictures)
            w, h = state["layout"].out_w, state["layout"].out_h
            muxer = GifMuxer(self.tmp, w, h, spec.loop, self.play_rate, self.plan.count)
            kept.encode(muxer, self.report.stage(0.6, 0.97))
            muxer.close()
        except BaseException:
            run.stop()
            if muxer is not None:
                muxer.abort()
            raise
        return Written(muxer.written, muxer.centiseconds, 100, w, h)

    def _webp(self, first, slots, layout: Layout, rotate: int) -> Written:
        fmt = webp_format(self.spec.lossless, has_alpha(first[1].format.name))
        muxer = WebpMuxer(self.tmp, layout.out_w, layout.out_h, fmt, quality=self.spec.quality,
                          lossless=self.spec.lossless, loop=self.spec.loop, play_rate=self.play_rate,
                          count=self.plan.count, progress=self.report.stage(0, 0.97))
        scaler = Scaler(layout, rotate, fmt)
        try:
            for frame in threaded(self._scaled(first, slots, scaler, lambda fraction: None)):
                muxer.write(frame)
            muxer.close()
        except BaseException:
            muxer.abort()
            raise
        # libwebp merges runs of identical frames, so the file is the truth about frames and time.
        stored = frame_durations(self.tmp)
        return Written(len(stored), sum(stored), 1000, layout.out_w, layout.out_h)

    def _gif(self, first, slots, layout: Layout, rotate: int) -> Written:
        from .gif import Ditherer, GifMuxer, chunk_frames, dither_in_order

        spec = self.spec
        w, h = layout.out_w, layout.out_h
        muxer = GifMuxer(self.tmp, w, h, spec.loop, self.play_rate, self.plan.count)
        try:
            if spec.palette_mode == "per_frame":
                scaler = Scaler(layout, rotate, OutputFormat("bgra"))
                frames = threaded(self._scaled(first, slots, scaler, self.report.stage(0, 0.97)), depth(w, h))
                dither_in_order(frames, lambda shot: Ditherer(w, h, spec.dither, spec.colors, None), muxer.write,
                                chunk_frames(w, h))
            elif self.plan.count * w * h * 4 <= KEEP_BUDGET_BYTES:
                self._gif_kept(first, slots, Scaler(layout, rotate, OutputFormat("bgra")), muxer, w, h)
            else:
                self._gif_two_pass(first, slots, Scaler(layout, rotate, OutputFormat("bgra")), muxer, w, h)
            muxer.close()
        except BaseException:
            muxer.abort()
            raise
        return Written(muxer.written, muxer.centiseconds, 100, w, h)

    def _gif_kept(self, first, slots, scaler: Scaler, muxer: GifMuxer, w: int, h: int) -> None:
        """One decode: keep the scaled frames while gathering the palette, then dither them."""
        kept = self._kept_with_palette(threaded(self._scaled(first, slots, scaler, self.report.stage(0, 0.6))))
        kept.encode(muxer, self.report.stage(0.6, 0.97))

    def _kept_with_palette(self, pictures: Iterable[av.VideoFrame]) -> KeptFrames:
        """Keep the scaled pictures (slots in order) and work out one palette from them."""
        from .gif import KeptFrames, PaletteBuilder, frame_format_args

        builder = None
        kept: list[av.VideoFrame] = []
        for picture in pictures:
            if builder is None:
                fmt_args = frame_format_args(picture)
                builder = PaletteBuilder(picture.width, picture.height, self.spec.colors, fmt_args,
                                          self.plan.count)
            builder.add(picture)
            kept.append(picture)
        if builder is None:
            raise EncodeError(ErrorCode.DECODE_FAILED, "no picture could be decoded in the requested range")
        return KeptFrames(kept, builder.shots(), fmt_args, self.spec.dither, self.spec.colors)

    def _gif_two_pass(self, first, slots, scaler: Scaler, muxer: GifMuxer, w: int, h: int) -> None:
        """Pass 1 gathers the palette statistics; pass 2 decodes again and dithers as it goes."""
        from .gif import Ditherer, PaletteBuilder, chunk_frames, dither_in_order

        spec = self.spec
        builder = PaletteBuilder(w, h, spec.colors, frames=self.plan.count)
        for frame in threaded(self._scaled(first, slots, scaler, self.report.stage(0, 0.45)), depth(w, h)):
            builder.add(frame)
        # The palettes (one per shot) are worked out on one core while the second pass starts
        # decoding on the other; the ditherers wait for them (as many pictures queue meanwhile as
        # while dithering).
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="gif-palette") as palette_pool:
            shots = palette_pool.submit(builder.shots)
            planned = self.emitted
            # Decode again from the same container (a second one would hold a second decoder's
            # frame pool, which at 4K is hundreds of MB).
            rewind(self.container, self.stream)
            slots2, first2, _ = self._slots(self.container, self.stream)
            frames = self._scaled(first2, slots2, scaler, self.report.stage(0.45, 0.97))
            dither_in_order(threaded(_take(frames, planned), depth(w, h)),
                            lambda shot: Ditherer(w, h, spec.dither, spec.colors, shots.result().palettes[shot]),
                            muxer.write, chunk_frames(w, h), shot_of=lambda k: shots.result().of(k))
        self.emitted = min(self.emitted, planned)


def _scale_each(first: tuple[int, av.VideoFrame], slots: Iterator,
                scaler: Scaler) -> Iterator[tuple[int, av.VideoFrame]]:
    """(slot, picture) for each slot; a source frame serving several slots is scaled once."""
    last_src = last_out = None
    for k, frame in _chain(first, slots):
        if frame is not last_src:
            last_out = scaler(frame)
            last_src = frame
        yield k, last_out


def _chain(first: T, rest: Iterator[T]) -> Iterator[T]:
    yield first
    yield from rest


def _reporting(items: Iterable[T], report: Callable[[float], None], count: int) -> Iterator[T]:
    for i, item in enumerate(items):
        report((i + 1) / count)
        yield item


def _take(items: Iterable[T], count: int) -> Iterator[T]:
    for i, item in enumerate(items):
        if i >= count:
            return
        yield item
