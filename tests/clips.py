"""Synthesise short, deterministic test videos with PyAV, and read their marks back.

Every clip shows the same picture, as a viewer sees it (after rotation and sample aspect
ratio are applied), so tests can check orientation, colour and timing after a render:

- four solid quadrants: red top-left, green top-right, blue bottom-left, white bottom-right
  (``content="tones"`` uses the mid-tones of ``TONES`` instead, ``content="gradient"`` a smooth
  moving colour field, ``content="texture"`` a detailed pattern scrolling two widths over the
  clip, for quality tests; ``content="still"`` only the quadrants, identical in every frame);
- a black strip across the middle (40 % to 60 % of the height). Its upper half holds a yellow
  bar whose centre sits at ``x = t / seconds * (width - 1)``, ``t`` being the frame's
  presentation time; its lower half holds the frame's index in binary as 12 black/white cells,
  most significant bit first.

``read_bar_time`` and ``read_frame_index`` recover those marks from a decoded RGB picture,
``quadrant_colors`` samples the four corners' colours.
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path
from typing import Iterable, Iterator

import av
import numpy as np
from PIL import Image

RED = (255, 0, 0)
GREEN = (0, 255, 0)
BLUE = (0, 0, 255)
WHITE = (255, 255, 255)
YELLOW = (255, 255, 0)
# Which corner of the displayed picture carries which colour.
QUADRANTS = {"top_left": RED, "top_right": GREEN, "bottom_left": BLUE, "bottom_right": WHITE}

# Mid-tone quadrants for ``content="tones"``: unlike saturated primaries, these move visibly when
# a decoder or encoder gets the YUV range (full vs limited) or the matrix (BT.601 vs BT.709) wrong.
TONES = {"top_left": (210, 60, 40), "top_right": (50, 190, 70), "bottom_left": (40, 70, 200),
         "bottom_right": (225, 225, 225)}

STRIP_TOP, STRIP_BOTTOM = 0.4, 0.6
COUNTER_BITS = 12
# Frame durations of a variable-frame-rate clip, in units of 1/fps; they average 1.25/fps.
VFR_PATTERN = (1, 2, 1, 0.5, 0.5, 3, 1, 1)

_SUFFIX_FOR_CODEC = {"libx264": ".mp4", "libx265": ".mp4", "libvpx-vp9": ".webm", "mjpeg": ".avi"}


def has_encoder(name: str) -> bool:
    """Whether this PyAV build can encode with `name` (libx265 is optional in some wheels)."""
    try:
        av.codec.Codec(name, "w")
    except (av.codec.codec.UnknownCodecError, ValueError):
        return False
    return True


def suffix_for(codec: str, container: str | None = None) -> str:
    """The file suffix make_clip would pick for this codec and container."""
    if container:
        return "." + container.lstrip(".")
    return _SUFFIX_FOR_CODEC.get(codec, ".mkv")


def frame_times(fps: float, seconds: float, vfr: bool = False) -> list[Fraction]:
    """Presentation times (seconds) of the frames make_clip writes for these settings."""
    step = Fraction(fps).limit_denominator(1001) ** -1
    times: list[Fraction] = []
    t = Fraction(0)
    k = 0
    while t < Fraction(seconds).limit_denominator(100_000) - Fraction(1, 100_000):
        times.append(t)
        t += step * Fraction(VFR_PATTERN[k % len(VFR_PATTERN)]) if vfr else step
        k += 1
    return times


def draw_frame(width: int, height: int, t: float, index: int, seconds: float,
               content: str = "patches") -> np.ndarray:
    """The displayed picture of frame `index` at time `t`, as an RGB uint8 array (height, width, 3)."""
    img = np.empty((height, width, 3), dtype=np.uint8)
    if content in ("patches", "tones"):
        colors = QUADRANTS if content == "patches" else TONES
        half_w, half_h = width // 2, height // 2
        img[:half_h, :half_w] = colors["top_left"]
        img[:half_h, half_w:] = colors["top_right"]
        img[half_h:, :half_w] = colors["bottom_left"]
        img[half_h:, half_w:] = colors["bottom_right"]
    elif content == "texture":
        tile = _texture(width, height)
        shift = int(round(t * 2 * width / max(seconds, 1e-6)))
        img[:] = np.roll(tile, -shift, axis=1)
    elif content == "gradient":
        y, x = np.mgrid[0:height, 0:width].astype(np.float32)
        phase = 2 * math.pi * t / max(seconds, 1e-6)
        img[..., 0] = (255 * x / max(width - 1, 1)).astype(np.uint8)
        img[..., 1] = (255 * y / max(height - 1, 1)).astype(np.uint8)
        img[..., 2] = (127.5 + 127.5 * np.sin(2 * math.pi * (x + y) / (width + height) * 2 + phase)).astype(np.uint8)
    elif content == "still":
        # The same picture in every frame (a paused screen recording): no strip, no counter.
        half_w, half_h = width // 2, height // 2
        img[:half_h, :half_w], img[:half_h, half_w:] = RED, GREEN
        img[half_h:, :half_w], img[half_h:, half_w:] = BLUE, WHITE
        return img
    else:
        raise ValueError(f"unknown content {content!r}")
    y0, y1 = round(STRIP_TOP * height), round(STRIP_BOTTOM * height)
    ym = (y0 + y1) // 2
    img[y0:y1] = 0
    bar_half = max(1, width // 80)
    centre = round(min(max(t / seconds, 0.0), 1.0) * (width - 1))
    img[y0:ym, max(0, centre - bar_half):centre + bar_half + 1] = YELLOW
    for bit in range(COUNTER_BITS):
        if (index >> (COUNTER_BITS - 1 - bit)) & 1:
            x0, x1 = round(bit * width / COUNTER_BITS), round((bit + 1) * width / COUNTER_BITS)
            img[ym:y1, x0:x1] = WHITE
    return img


_TEXTURES: dict[tuple[int, int], np.ndarray] = {}


def _texture(width: int, height: int) -> np.ndarray:
    """A seeded, smooth colour texture (blobs about 8 px across), the same on every run."""
    if (width, height) not in _TEXTURES:
        rng = np.random.default_rng(20261121)
        small = rng.integers(30, 226, size=(max(2, height // 8), max(2, width // 8), 3), dtype=np.uint8)
        _TEXTURES[(width, height)] = np.asarray(Image.fromarray(small).resize((width, height), Image.BICUBIC))
    return _TEXTURES[(width, height)]


def read_bar_time(rgb: np.ndarray, seconds: float) -> float:
    """The time shown by the yellow bar of a displayed RGB picture, in seconds of the source."""
    height, width = rgb.shape[:2]
    y0, y1 = round(STRIP_TOP * height), round(STRIP_BOTTOM * height)
    row = rgb[(3 * y0 + y1) // 4].astype(int)
    yellow = (row[:, 0] > 128) & (row[:, 1] > 128) & (row[:, 2] < 110)
    cols = np.flatnonzero(yellow)
    if cols.size == 0:
        raise ValueError("no yellow bar found in the strip")
    return float(cols.mean()) / (width - 1) * seconds


def read_frame_index(rgb: np.ndarray) -> int:
    """The frame index written in the binary counter of a displayed RGB picture."""
    height, width = rgb.shape[:2]
    y0, y1 = round(STRIP_TOP * height), round(STRIP_BOTTOM * height)
    row = rgb[(y0 + 3 * y1) // 4].astype(int).mean(axis=1)
    value = 0
    for bit in range(COUNTER_BITS):
        x = int((bit + 0.5) * width / COUNTER_BITS)
        value = (value << 1) | int(row[x] > 128)
    return value


def quadrant_colors(rgb: np.ndarray, box: tuple[int, int, int, int] | None = None) -> dict[str, tuple[int, int, int]]:
    """Mean colour near the centre of each quadrant of `box` (x0, y0, x1, y1; the whole picture by default)."""
    height, width = rgb.shape[:2]
    x0, y0, x1, y1 = box or (0, 0, width, height)
    w, h = x1 - x0, y1 - y0
    out = {}
    for name, (fx, fy) in {"top_left": (0.25, 0.2), "top_right": (0.75, 0.2),
                           "bottom_left": (0.25, 0.8), "bottom_right": (0.75, 0.8)}.items():
        cx, cy = x0 + int(fx * w), y0 + int(fy * h)
        rx, ry = max(1, w // 16), max(1, h // 20)
        patch = rgb[cy - ry:cy + ry + 1, cx - rx:cx + rx + 1].reshape(-1, 3).astype(float)
        out[name] = tuple(int(round(v)) for v in patch.mean(axis=0))
    return out


def color_distance(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """Largest per-channel difference between two RGB colours."""
    return float(max(abs(int(x) - int(y)) for x, y in zip(a, b, strict=True)))


def _yuv_frame(rgb: np.ndarray, pix_fmt: str, colorspace: str | None, full_range: bool) -> av.VideoFrame:
    """Convert an RGB picture to the encoder's pixel format with an explicit matrix and range."""
    src = av.VideoFrame.from_ndarray(rgb, format="rgb24")
    space = "itu709" if colorspace == "bt709" else "itu601"
    frame = src.reformat(format=pix_fmt, dst_colorspace=space,
                         dst_color_range="JPEG" if full_range else "MPEG",
                         interpolation="BICUBIC")
    return frame


def _coded_picture(display: np.ndarray, rotation: int, coded_w: int, coded_h: int) -> np.ndarray:
    """Turn a displayed picture into the coded one: undo the player's rotation and SAR stretch."""
    # A player turns the picture `rotation` degrees clockwise, so store it turned counter-clockwise.
    coded = np.rot90(display, k=(rotation // 90) % 4)
    if coded.shape[1] != coded_w or coded.shape[0] != coded_h:
        coded = np.asarray(Image.fromarray(np.ascontiguousarray(coded)).resize((coded_w, coded_h), Image.BICUBIC))
    return np.ascontiguousarray(coded)


def _audio_frames(rate: int, channels: int, seconds: float, frame_size: int = 1024) -> Iterator[av.AudioFrame]:
    """A 440 Hz tone in float planar frames of `frame_size` samples."""
    total = int(round(seconds * rate))
    for start in range(0, total, frame_size):
        n = min(frame_size, total - start)
        t = (np.arange(start, start + n) / rate).astype(np.float32)
        tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        data = np.tile(tone, (channels, 1))
        frame = av.AudioFrame.from_ndarray(data, format="fltp", layout="stereo" if channels == 2 else "mono")
        frame.sample_rate = rate
        frame.pts = start
        frame.time_base = Fraction(1, rate)
        yield frame


def make_clip(path: str | Path, *, codec: str = "libx264", container: str | None = None,
              width: int = 320, height: int = 240, fps: float = 30, seconds: float = 2.0,
              pix_fmt: str = "yuv420p", rotation: int = 0, vfr: bool = False,
              color_range: str | None = None, colorspace: str | None = None, gop: int | None = None,
              audio: bool = False, audio_rate: int = 48_000, audio_channels: int = 2,
              sar: tuple[int, int] | None = None, ten_bit: bool = False, content: str = "patches",
              faststart: bool = False) -> Path:
    """Write a short test video and return its path.

    `width` x `height` is the coded size. `rotation` (0/90/180/270) is how far a player turns the
    picture clockwise (a display matrix of -rotation degrees, like a phone's), so a 320x240 clip
    with rotation 90 is shown as 240x320. `sar` (num, den) makes pixels non-square: the clip is
    shown `width * num / den` wide. The drawn picture is always upright as displayed.
    `color_range="pc"` writes full-range YUV (and tags it), `colorspace="bt709"` uses and tags the
    BT.709 matrix (untagged clips use BT.601, which decoders assume). `gop` is the keyframe
    interval in frames. `faststart` puts the mp4 index before the data, so a cut file keeps it.
    """
    path = Path(path)
    if rotation % 90 or rotation not in (0, 90, 180, 270):
        raise ValueError("rotation must be 0, 90, 180 or 270")
    if ten_bit:
        pix_fmt = "yuv420p10le"
    full_range = color_range == "pc" or pix_fmt.startswith("yuvj")
    fmt_name = container.lstrip(".") if container else None
    options = {"movflags": "+faststart"} if faststart else {}
    times = frame_times(fps, seconds, vfr)
    with av.open(str(path), "w", format=fmt_name, options=options) as out:
        rate = Fraction(fps).limit_denominator(1001)
        stream = out.add_stream(codec, rate=rate)
        stream.width, stream.height = width, height
        stream.pix_fmt = pix_fmt
        ctx = stream.codec_context
        # A fine time base lets VFR frames land on their exact times.
        ctx.time_base = Fraction(1, 90_000) if vfr else 1 / rate
        ctx.thread_count = 1  # one thread keeps the bytes identical from run to run
        if gop:
            ctx.gop_size = gop
        if full_range:
            ctx.color_range = 2  # AVCOL_RANGE_JPEG
        elif color_range == "tv":
            ctx.color_range = 1
        if colorspace == "bt709":
            ctx.colorspace = 1
            ctx.color_primaries = 1
            ctx.color_trc = 1
        if sar:
            ctx.sample_aspect_ratio = Fraction(*sar)
            stream.sample_aspect_ratio = Fraction(*sar)
        stream.options = _codec_options(codec, gop)
        if rotation:
            stream.set_display_rotation(-rotation)
        astream = None
        if audio:
            astream = out.add_stream("aac", rate=audio_rate)
            astream.layout = "stereo" if audio_channels == 2 else "mono"
            astream.codec_context.thread_count = 1
        display_w = round(width * sar[0] / sar[1]) if sar else width
        display_h = height
        if rotation in (90, 270):
            display_w, display_h = display_h, display_w
        for index, t in enumerate(times):
            rgb = draw_frame(display_w, display_h, float(t), index, seconds, content)
            frame = _yuv_frame(_coded_picture(rgb, rotation, width, height), pix_fmt, colorspace, full_range)
            frame.pts = int(round(t / ctx.time_base))
            frame.time_base = ctx.time_base
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
        if astream is not None:
            for aframe in _audio_frames(audio_rate, audio_channels, seconds):
                out.mux(astream.encode(aframe))
            out.mux(astream.encode(None))
    return path


def _codec_options(codec: str, gop: int | None) -> dict[str, str]:
    if codec == "libx264":
        params = "scenecut=0" + (f":keyint={gop}:min-keyint={gop}" if gop else "")
        return {"preset": "veryfast", "crf": "16", "x264-params": params}
    if codec == "libx265":
        params = "log-level=error:scenecut=0" + (f":keyint={gop}:min-keyint={gop}" if gop else "")
        return {"preset": "ultrafast", "crf": "18", "x265-params": params}
    if codec == "libvpx-vp9":
        return {"deadline": "realtime", "cpu-used": "8", "crf": "20", "b": "0"}
    if codec == "mjpeg":
        return {"q": "3"}
    return {}


def make_long_clip(path: str | Path, *, seconds: float = 60.0, fps: float = 10, width: int = 160,
                   height: int = 120, keyframe_seconds: float = 10.0, faststart: bool = False) -> Path:
    """A cheap long clip with sparse keyframes (one every `keyframe_seconds`), for seek tests."""
    return make_clip(path, width=width, height=height, fps=fps, seconds=seconds,
                     gop=max(1, int(round(keyframe_seconds * fps))), faststart=faststart)


def make_audio_only(path: str | Path, *, seconds: float = 1.0, rate: int = 44_100, channels: int = 2) -> Path:
    """An AAC file with no video stream (an .m4a)."""
    path = Path(path)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("aac", rate=rate)
        stream.layout = "stereo" if channels == 2 else "mono"
        for frame in _audio_frames(rate, channels, seconds):
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def make_truncated(src: str | Path, dst: str | Path, keep: float = 0.5) -> Path:
    """Copy the first `keep` share of `src`'s bytes to `dst`, as an interrupted upload would."""
    data = Path(src).read_bytes()
    dst = Path(dst)
    dst.write_bytes(data[: int(len(data) * keep)])
    return dst


def make_garbage_tail(src: str | Path, dst: str | Path, extra_bytes: int) -> Path:
    """Copy `src` and append `extra_bytes` of zeros, as a sparse hole so it costs no disk or time."""
    dst = Path(dst)
    dst.write_bytes(Path(src).read_bytes())
    with dst.open("r+b") as f:
        f.truncate(dst.stat().st_size + extra_bytes)
    return dst


def make_empty(path: str | Path) -> Path:
    """A zero-byte file."""
    path = Path(path)
    path.write_bytes(b"")
    return path


def make_text(path: str | Path) -> Path:
    """A text file posing as a video (e.g. named .mp4)."""
    path = Path(path)
    path.write_text("This is not a video. " * 200, encoding="utf-8")
    return path


def grainy_picture(k: int, width: int = 160, height: int = 120, square: int = 24) -> np.ndarray:
    """Picture k of a still gradient under fresh grain every frame (sigma 2.5 levels), with a
    white square moving 6 px a frame along rows 40 to 40 + `square`."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    rgb = np.stack([40 + x, 60 + y, 200 - x / 2], axis=-1)
    rgb = rgb + np.random.default_rng(k).normal(0, 2.5, (height, width, 1))
    left = 8 + 6 * k
    rgb[40:40 + square, left:left + square] = 250
    return np.clip(rgb, 0, 255).astype(np.uint8)


def encode_pictures(path: str | Path, pictures: Iterator[np.ndarray], fps: int, crf: int = 12,
                    gop: int = 30) -> Path:
    """H.264 (yuv444p, so colours survive) of RGB `pictures` at `fps`, one after another."""
    path = Path(path)
    with av.open(str(path), "w") as container:
        stream = None
        for k, rgb in enumerate(pictures):
            if stream is None:
                stream = container.add_stream("libx264", rate=fps, options={"crf": str(crf), "g": str(gop)})
                stream.height, stream.width = rgb.shape[:2]
                stream.pix_fmt = "yuv444p"
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv444p")
            frame.pts, frame.time_base = k, Fraction(1, fps)
            container.mux(stream.encode(frame))
        if stream is not None:
            container.mux(stream.encode(None))
    return path


def decode_rgb(path: str | Path) -> list[tuple[float, np.ndarray]]:
    """Every frame of a video or animated image as (time in seconds, displayed RGB array).

    Rotation from the display matrix is applied, so the pictures are as a viewer sees them.
    """
    frames = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            rgb = frame.to_ndarray(format="rgb24")
            turn = (-frame.rotation) % 360  # clockwise degrees a player turns it
            if turn:
                rgb = np.rot90(rgb, k=-(turn // 90))
            frames.append((float(frame.time or 0.0), np.ascontiguousarray(rgb)))
    return frames


def make_corrupt_data(src: str | Path, dst: str | Path, seed: int = 1) -> Path:
    """Copy an mp4 and overwrite its media data with noise: headers intact, no decodable picture."""
    data = bytearray(Path(src).read_bytes())
    at = data.find(b"mdat")
    if at < 4:
        raise ValueError(f"{src} has no mdat box")
    start, end = at + 4, int.from_bytes(data[at - 4:at], "big") + at - 4
    noise = np.random.default_rng(seed).integers(0, 256, size=end - start, dtype=np.uint8)
    data[start:end] = noise.tobytes()
    dst = Path(dst)
    dst.write_bytes(bytes(data))
    return dst



# MPEG-TS timestamps are 33 bits of a 90 kHz clock: they wrap after about 26.5 hours.
TS_WRAP_SECONDS = Fraction(2**33, 90_000)
_TS_BASE = 900_000  # where the muxer stamps the clip first (10 s): no negative DTS to shift away


def make_ts_clip(path: str | Path, *, start: float = 0.0, seconds: float = 3.0, fps: float = 25,
                 width: int = 160, height: int = 120, gop: int | None = 25, m2ts: bool = False,
                 jump_at: float | None = None, jump_by: float = 0.0, audio: bool = False) -> Path:
    """An H.264 MPEG-TS (or BDAV M2TS) clip as a camera or a broadcast capture writes it.

    Its first timestamp is `start` seconds, taken modulo the 33-bit clock: a start just below
    `TS_WRAP_SECONDS` wraps mid-clip. From `jump_at` seconds of the clip on, every timestamp is
    `jump_by` seconds later (or earlier): a discontinuity, as where a recording was spliced. The
    pictures are make_clip's, drawn at their time in the clip. FFmpeg's muxer refuses timestamps
    that go back, so the clip is muxed plainly and its PES and PCR stamps rewritten in place.
    """
    path = Path(path)
    tb = Fraction(1, 90_000)
    times = frame_times(fps, seconds)
    with av.open(str(path), "w", format="mpegts",
                 options={"mpegts_m2ts_mode": "1"} if m2ts else {}) as out:
        stream = out.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.time_base = tb
        stream.codec_context.thread_count = 1
        if gop:
            stream.codec_context.gop_size = gop
        stream.options = _codec_options("libx264", gop)
        astream = out.add_stream("mp2", rate=48_000) if audio else None
        for index, t in enumerate(times):
            frame = _yuv_frame(draw_frame(width, height, float(t), index, seconds), "yuv420p", None, False)
            frame.pts, frame.time_base = _TS_BASE + int(round(t / tb)), tb
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
        if astream is not None:
            for aframe in _audio_frames(48_000, 2, seconds, frame_size=1152):
                aframe.pts += int(_TS_BASE * Fraction(48_000, 90_000))
                out.mux(astream.encode(aframe))
            out.mux(astream.encode(None))

    def restamp(ticks: int, clip_ticks: int) -> int:
        later = jump_by if jump_at is not None and (clip_ticks - _TS_BASE) * tb >= jump_at else 0
        return (ticks - _TS_BASE + round((start + later) / tb)) % 2**33

    data = bytearray(path.read_bytes())
    _restamp_ts(data, 192 if m2ts else 188, restamp)
    path.write_bytes(bytes(data))
    return path


def _restamp_ts(data: bytearray, packet_size: int, restamp) -> None:
    """Rewrite each PES packet's PTS/DTS and each PCR with restamp(ticks, the packet's PTS)."""
    head = packet_size - 188  # M2TS puts a 4-byte arrival stamp before each TS packet
    last_pts = _TS_BASE
    for at in range(0, len(data) - packet_size + 1, packet_size):
        p = at + head
        if data[p] != 0x47:
            raise ValueError(f"lost TS sync at byte {p}")
        payload = p + 4
        if data[p + 3] & 0x20:  # adaptation field
            length = data[p + 4]
            if length and data[p + 5] & 0x10:  # PCR: 33-bit base, 6 reserved bits, 9-bit extension
                b = data[p + 6:p + 12]
                base = (b[0] << 25) | (b[1] << 17) | (b[2] << 9) | (b[3] << 1) | (b[4] >> 7)
                base = restamp(base, last_pts)
                data[p + 6:p + 10] = (base >> 1).to_bytes(4, "big")
                data[p + 10] = ((base & 1) << 7) | (b[4] & 0x7F)
            payload = p + 5 + length
        if not data[p + 1] & 0x40 or data[payload:payload + 3] != b"\x00\x00\x01":
            continue  # not the start of a PES packet
        flags = data[payload + 7] >> 6
        if flags & 2:
            pts = _read_stamp(data, payload + 9)
            last_pts = pts
            _write_stamp(data, payload + 9, restamp(pts, pts))
            if flags == 3:
                _write_stamp(data, payload + 14, restamp(_read_stamp(data, payload + 14), pts))


def _read_stamp(data: bytearray, at: int) -> int:
    b = data[at:at + 5]
    return (((b[0] >> 1) & 7) << 30) | (b[1] << 22) | ((b[2] >> 1) << 15) | (b[3] << 7) | (b[4] >> 1)


def _write_stamp(data: bytearray, at: int, value: int) -> None:
    data[at:at + 5] = bytes([(data[at] & 0xF0) | (((value >> 30) & 7) << 1) | 1, (value >> 22) & 0xFF,
                             (((value >> 15) & 0x7F) << 1) | 1, (value >> 7) & 0xFF, ((value & 0x7F) << 1) | 1])


def alpha_at(width: int, height: int, index: int) -> np.ndarray:
    """The alpha plane make_alpha_clip draws for frame `index`: a transparent background, an
    opaque box in the middle, and a square at alpha 96 (under GIF's threshold of 128) moving
    right 2 px a frame across the box's left edge."""
    alpha = np.zeros((height, width), np.uint8)
    alpha[height // 4:3 * height // 4, width // 4:3 * width // 4] = 255
    side = height // 4
    x = 2 * index
    alpha[height // 2 - side // 2:height // 2 + side // 2, x:x + side] = 96
    return alpha


def make_alpha_clip(path: str | Path, *, width: int = 96, height: int = 64, fps: int = 10,
                    seconds: float = 2.0, codec: str = "libvpx-vp9", opaque_frames: Iterable[int] = ()) -> Path:
    """A VP9 (or, with `codec="libvpx"`, VP8) WebM with an alpha channel (yuva420p), as browsers
    and editors export transparent video: WebM keeps the alpha plane in BlockAdditional side data
    beside each picture. The pictures numbered in `opaque_frames` are opaque all over."""
    path = Path(path)
    opaque = set(opaque_frames)
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuva420p"
        stream.codec_context.thread_count = 1
        # libvpx's VP8 encoder takes alpha only without alternate reference frames.
        stream.options = ({**_codec_options("libvpx-vp9", None), "crf": "10"} if codec == "libvpx-vp9"
                          else {"auto-alt-ref": "0", "crf": "10", "b": "1M"})
        for index in range(int(round(seconds * fps))):
            rgba = np.empty((height, width, 4), np.uint8)
            rgba[..., :3] = draw_frame(width, height, index / fps, index, seconds)
            rgba[..., 3] = 255 if index in opaque else alpha_at(width, height, index)
            frame = av.VideoFrame.from_ndarray(rgba, format="rgba").reformat(format="yuva420p")
            frame.pts, frame.time_base = index, Fraction(1, fps)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path
