"""The benchmark's source clips: generated deterministically once, cached by their parameters.

    python -m bench.clips            # make (or find) every clip, print paths and timings
    python -m bench.clips --clip a   # only clip a; --force regenerates

Clips go to `$LOOPDECK_BENCH_DIR/clips` (default `/tmp/loopdeck-bench/clips`); the GoPro clip is
read in place from `/work/shared/media/` (never copied). The file name carries a hash of every
parameter and of `GENERATOR_VERSION`, so a changed recipe makes a new file instead of reusing a
stale one.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import queue
import sys
import threading
import time
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import ColorRange, Colorspace, VideoReformatter

from .scene import Picture

# Bump when scene.py or the encoding recipe changes the pixels.
GENERATOR_VERSION = 1

SHARED_MEDIA = Path(os.environ.get("LOOPDECK_SHARED_MEDIA", "/work/shared/media"))
GOPRO = "camera_gopro_karma_h264_aac_gpmf_854x480.mp4"


def bench_dir() -> Path:
    """The cache directory for clips, tools and results (outside the repository)."""
    return Path(os.environ.get("LOOPDECK_BENCH_DIR", "/tmp/loopdeck-bench"))


@dataclass(frozen=True)
class ClipSpec:
    """How to generate one synthetic clip."""

    name: str
    width: int
    height: int
    fps: int
    seconds: int
    preset: str
    crf: int = 20
    keyint_s: int = 2
    seed: int = 1

    def file_name(self) -> str:
        digest = hashlib.sha256(json.dumps([GENERATOR_VERSION, asdict(self)]).encode()).hexdigest()
        return f"{self.name}_{self.height}p{self.fps}_h264_{self.seconds}s-{digest[:10]}.mp4"


CLIPS = {
    "a": ClipSpec("a", 1920, 1080, 30, 60, preset="veryfast"),
    "c": ClipSpec("c", 3840, 2160, 30, 10, preset="veryfast"),
}


class _Grain:
    """Film grain and a slow brightness drift on the luma plane, from one precomputed field."""

    def __init__(self, width: int, height: int, fps: int, seed: int, strength: float) -> None:
        rng = np.random.default_rng(seed + 1000)
        self.pad = 64
        field = rng.normal(0.0, strength, (height + self.pad, width + self.pad))
        self.field = np.clip(np.round(field), -40, 40).astype(np.int16)
        self.offsets = rng.integers(0, self.pad, (1 << 16, 2))
        self.fps = fps

    def apply(self, luma: np.ndarray, n: int) -> None:
        """Add frame n's grain and brightness drift to a limited-range luma plane in place."""
        h, w = luma.shape
        dy, dx = self.offsets[n % len(self.offsets)]
        drift = int(round(6 * np.sin(2 * np.pi * n / (20 * self.fps))))
        out = luma.astype(np.int16)
        out += self.field[dy:dy + h, dx:dx + w]
        out += drift
        np.clip(out, 16, 235, out=out)
        luma[...] = out


def _produce(spec: ClipSpec, frames: queue.Queue[np.ndarray | None]) -> None:
    """Render every frame as yuv420p planes (BT.709 limited) and hand them to the encoder."""
    picture = Picture(spec.width, spec.height, spec.fps, spec.seed)
    grain = _Grain(spec.width, spec.height, spec.fps, spec.seed, strength=3.5)
    reformatter = VideoReformatter()
    for n in range(spec.fps * spec.seconds):
        rgb = av.VideoFrame.from_ndarray(picture.render(n), format="rgb24")
        yuv = reformatter.reformat(rgb, format="yuv420p", src_colorspace=Colorspace.ITU709,
                                   dst_colorspace=Colorspace.ITU709, src_color_range=ColorRange.JPEG,
                                   dst_color_range=ColorRange.MPEG)
        planes = yuv.to_ndarray()
        grain.apply(planes[:spec.height], n)
        frames.put(planes)
    frames.put(None)


def generate(spec: ClipSpec, dest: Path) -> None:
    """Encode the clip to dest (via a temporary name, so a killed run leaves no half file)."""
    tmp = dest.with_name(dest.name + ".partial")
    frames: queue.Queue[np.ndarray | None] = queue.Queue(maxsize=6)
    errors: list[BaseException] = []

    def producer() -> None:
        try:
            _produce(spec, frames)
        except Exception as exc:  # re-raised in the main thread below
            errors.append(exc)
            frames.put(None)

    worker = threading.Thread(target=producer, name="clip-frames", daemon=True)
    worker.start()
    keyint = spec.keyint_s * spec.fps
    with av.open(str(tmp), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=spec.fps, options={
            "preset": spec.preset, "crf": str(spec.crf),
            "x264-params": f"keyint={keyint}:min-keyint={keyint}:scenecut=0",
        })
        stream.width, stream.height, stream.pix_fmt = spec.width, spec.height, "yuv420p"
        cc = stream.codec_context
        # Frame threads: one slice per frame, like x264 CLI and cameras. PyAV's default (SLICE)
        # would split each frame into slices and let decoders hide a threading pitfall.
        cc.thread_type, cc.thread_count = "FRAME", 2
        cc.gop_size = keyint
        cc.colorspace, cc.color_range = Colorspace.ITU709, ColorRange.MPEG
        cc.color_primaries, cc.color_trc = 1, 1  # BT.709
        time_base = Fraction(1, spec.fps)
        n = 0
        while (planes := frames.get()) is not None:
            frame = av.VideoFrame.from_ndarray(planes, format="yuv420p")
            frame.pts, frame.time_base = n, time_base
            frame.colorspace, frame.color_range = Colorspace.ITU709, ColorRange.MPEG
            for packet in stream.encode(frame):
                container.mux(packet)
            n += 1
        for packet in stream.encode():
            container.mux(packet)
    worker.join()
    if errors:
        tmp.unlink(missing_ok=True)
        raise errors[0]
    os.replace(tmp, dest)


def clip_path(name: str, force: bool = False, log: bool = True) -> Path:
    """The path of clip `name` ("a", "c" or "gopro"), generating it first when missing."""
    if name == "gopro":
        path = SHARED_MEDIA / GOPRO
        if not path.is_file():
            raise FileNotFoundError(f"GoPro clip not found: {path}")
        return path
    spec = CLIPS[name]
    dest = bench_dir() / "clips" / spec.file_name()
    if dest.is_file() and not force:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    if log:
        print(f"generating clip {name}: {spec.width}x{spec.height} {spec.fps} fps {spec.seconds} s "
              f"(x264 {spec.preset} crf {spec.crf}) ...", file=sys.stderr, flush=True)
    generate(spec, dest)
    if log:
        size = dest.stat().st_size
        print(f"  {dest} in {time.perf_counter() - started:.1f} s, {size / 1e6:.1f} MB, "
              f"{size * 8 / spec.seconds / 1e6:.1f} Mb/s", file=sys.stderr, flush=True)
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip", default="a,c,gopro", help="comma-separated: a, c, gopro")
    parser.add_argument("--force", action="store_true", help="regenerate even when cached")
    args = parser.parse_args(argv)
    for name in args.clip.split(","):
        started = time.perf_counter()
        path = clip_path(name.strip(), force=args.force)
        print(f"{name}\t{path}\t{time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
