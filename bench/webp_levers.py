"""Lever experiment for issue 17 item 2: libwebp animation options through Pillow
(kmin/kmax, minimize_size, allow_mixed, method) against FFmpeg's libwebp_anim, all fed the same
RGB frames (the case's reference frames), scored with the benchmark's SSIM.

    /work/main/.venv/bin/python -m bench.webp_levers [--src FILE --start S --duration D --size WxH --fps F]

Prints bytes, SSIM and encode seconds per setting and quality, then, per setting, the bytes
interpolated at the SSIM FFmpeg reaches at quality 75 (ratio < 1: smaller at equal quality).
"""

from __future__ import annotations

import argparse
import io
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

from bench.metrics import iter_animation, ssim
from bench.reference import build_reference

QUALITIES = (60, 70, 75, 80, 88)
BIG = 1 << 30  # kmin/kmax this large: no key frames after the first (libwebp's own default)


def ffmpeg_anim(frames: list[np.ndarray], fps: int, q: int, out: Path) -> None:
    h, w = frames[0].shape[:2]
    with av.open(str(out), "w", format="webp", options={"loop": "0"}) as container:
        stream = container.add_stream("libwebp_anim")
        stream.width, stream.height, stream.pix_fmt = w, h, "bgra"
        stream.codec_context.time_base = Fraction(1, 1000)
        stream.options = {"lossless": "0", "quality": str(q), "compression_level": "4"}
        for k, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="bgra")
            frame.pts, frame.time_base = round(k * 1000 / fps), Fraction(1, 1000)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def pillow_anim(frames: list[np.ndarray], fps: int, q: int, out: Path, **options) -> None:
    images = [Image.fromarray(f) for f in frames]
    images[0].save(out, format="WEBP", save_all=True, append_images=images[1:], duration=round(1000 / fps),
                   loop=0, quality=q, **options)


SETTINGS = {
    "ffmpeg libwebp_anim m4": lambda fr, fps, q, out: ffmpeg_anim(fr, fps, q, out),
    "pillow m4 (kmin3 kmax5)": lambda fr, fps, q, out: pillow_anim(fr, fps, q, out, method=4),
    "pillow m4 no keys": lambda fr, fps, q, out: pillow_anim(fr, fps, q, out, method=4, kmin=BIG - 1, kmax=BIG),
    "pillow m4 no keys minimize": lambda fr, fps, q, out: pillow_anim(fr, fps, q, out, method=4, kmin=BIG - 1,
                                                                       kmax=BIG, minimize_size=True),
    "pillow m4 no keys mixed": lambda fr, fps, q, out: pillow_anim(fr, fps, q, out, method=4, kmin=BIG - 1,
                                                                    kmax=BIG, allow_mixed=True),
    "pillow m6 no keys": lambda fr, fps, q, out: pillow_anim(fr, fps, q, out, method=6, kmin=BIG - 1, kmax=BIG),
    "pillow m4 kmin1 kmax2": lambda fr, fps, q, out: pillow_anim(fr, fps, q, out, method=4, kmin=1, kmax=2),
    "pillow m4 kmin7 kmax10": lambda fr, fps, q, out: pillow_anim(fr, fps, q, out, method=4, kmin=7, kmax=10),
    "pillow m4 all key frames": lambda fr, fps, q, out: pillow_anim(fr, fps, q, out, method=4, kmin=0, kmax=1),
}


def score(path: Path, refs: list[np.ndarray]) -> float:
    shown = [rgb for rgb, _ in iter_animation(path)]
    return float(np.mean([ssim(a, b) for a, b in zip(shown, refs)]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--src", default="/work/shared/media/camera_gopro_karma_h264_aac_gpmf_854x480.mp4")
    parser.add_argument("--start", type=float, default=2)
    parser.add_argument("--duration", type=float, default=3)
    parser.add_argument("--size", default="480x270")
    parser.add_argument("--fps", type=int, default=15)
    parser.add_argument("--only", default="", help="comma-separated setting names (FFmpeg's always runs)")
    parser.add_argument("--out", default="/tmp/loopdeck-bench/webp-levers")
    args = parser.parse_args()
    w, h = map(int, args.size.split("x"))
    ref = build_reference(Path(args.src), Fraction(args.start), Fraction(args.duration), Fraction(args.fps), w, h)
    refs = [ref.frames[i] for i in ref.picks]
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    print(f"{args.src} {args.start}+{args.duration} s -> {w}x{h} @ {args.fps} fps, {len(refs)} frames")
    table: dict[str, list[tuple[int, int, float, float]]] = {}
    for name, encode in SETTINGS.items():
        if args.only and name not in args.only.split(",") and name != "ffmpeg libwebp_anim m4":
            continue
        for q in QUALITIES:
            out = out_dir / f"{abs(hash(name))}-{q}.webp"
            began = time.perf_counter()
            encode(refs, args.fps, q, out)
            took = time.perf_counter() - began
            row = (q, out.stat().st_size, score(out, refs), took)
            table.setdefault(name, []).append(row)
            print(f"| {name} | q{q} | {row[1]:,} B | SSIM {row[2]:.4f} | {took:.2f} s |", flush=True)
    target = next(r for r in table["ffmpeg libwebp_anim m4"] if r[0] == 75)
    print(f"\nbytes at FFmpeg q75's SSIM {target[2]:.4f} ({target[1]:,} B, {target[3]:.2f} s):")
    for name, rows in table.items():
        rows = sorted(rows, key=lambda r: r[2])
        ssims, sizes, times = [r[2] for r in rows], [r[1] for r in rows], [r[3] for r in rows]
        at = float(np.interp(target[2], ssims, sizes))
        secs = float(np.interp(target[2], ssims, times))
        print(f"| {name} | {at:,.0f} B | {at / target[1]:.3f}x bytes | {secs / target[3]:.2f}x encode time |")


if __name__ == "__main__":
    main()
