"""Hostile media for the hardening tests, and the long fuzz run.

Two halves:

- Builders of hostile files (`hostile_files`): zero bytes, text named .mp4, random bytes, an HLS
  playlist and a concat script posing as .mp4, dimension bombs (a y4m header and an MP4 whose
  H.264 SPS, sample entry and track header claim 60000x60000), absurd durations and frame counts
  in a tiny MP4, truncated MP4 and MKV.
- Seeded mutations of small real clips (bit flips, byte runs, truncations, chunk duplication,
  header field overwrites), each probed and rendered through the isolated child the product uses
  (`run_case`). Every case must give a valid output or a named error, within a time bound.

The test suite runs a few hundred cases (tests/hardening/test_media_fuzz.py); the long variant:

    python -m tests.hardening.fuzz_media --count 5000 --seed 7

prints the cases, the outcomes per code, the slowest case and the peak child RSS.
"""

from __future__ import annotations

import argparse
import random
import resource
import socket
import struct
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from media_jobs.encode import (
    EncodeError,
    ErrorCode,
    RenderSpec,
    probe_isolated,
    render_isolated,
)
from tests import clips
from tests.encode.animation import open_animation

# What a broken input may answer: anything else (InternalError, ProcessTimeout) is a finding.
KNOWN_CODES = frozenset({
    ErrorCode.INVALID_VIDEO_FORMAT, ErrorCode.NO_VIDEO_STREAM, ErrorCode.EMPTY_FILE, ErrorCode.DECODE_FAILED,
    ErrorCode.RESOURCE_LIMIT_EXCEEDED, ErrorCode.INVALID_TIME_RANGE,
})
# Per call. A 64x48 clip of 10 frames probes and renders in well under a second.
CASE_TIMEOUT = 20.0
# Tighter than the product's RENDER_MEMORY_LIMIT_MB (3072): a runaway allocation on a tiny clip
# shows as ResourceLimitExceeded at once instead of paging in gigabytes.
MEMORY_LIMIT_MB = 1024


# -- Bits and boxes ----------------------------------------------------------------------------


class _BitReader:
    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def u(self, n: int) -> int:
        value = 0
        for _ in range(n):
            byte = self.data[self.pos >> 3]
            value = (value << 1) | ((byte >> (7 - (self.pos & 7))) & 1)
            self.pos += 1
        return value

    def ue(self) -> int:
        zeros = 0
        while self.u(1) == 0:
            zeros += 1
        return (1 << zeros) - 1 + self.u(zeros)


class _BitWriter:
    def __init__(self) -> None:
        self.bits: list[int] = []

    def u(self, n: int, value: int) -> None:
        self.bits += [(value >> (n - 1 - i)) & 1 for i in range(n)]

    def ue(self, value: int) -> None:
        value += 1
        self.u(value.bit_length() - 1, 0)
        self.u(value.bit_length(), value)

    def to_bytes(self) -> bytes:
        bits = self.bits + [0] * (-len(self.bits) % 8)
        return bytes(int("".join(map(str, bits[i:i + 8])), 2) for i in range(0, len(bits), 8))


def _unescape(nal: bytes) -> bytes:
    """NAL payload to RBSP: drop the emulation-prevention 0x03 after two zero bytes."""
    out, zeros = bytearray(), 0
    for byte in nal:
        if zeros >= 2 and byte == 3:
            zeros = 0
            continue
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


def _escape(rbsp: bytes) -> bytes:
    out, zeros = bytearray(), 0
    for byte in rbsp:
        if zeros >= 2 and byte <= 3:
            out.append(3)
            zeros = 0
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


_HIGH_PROFILES = {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135}


def patch_sps(nal: bytes, width: int, height: int) -> bytes:
    """An H.264 SPS NAL unit (header byte included) rewritten to claim `width` x `height`.

    Handles what x264 writes (POC type 0 or 2, no scaling matrices, progressive); the VUI and
    trailing bits are copied as they are. Sizes are whole macroblocks (multiples of 16).
    """
    rbsp = _unescape(nal[1:])
    r, w = _BitReader(rbsp), _BitWriter()
    profile = r.u(8)
    w.u(8, profile)
    w.u(16, r.u(16))  # constraint flags, level
    w.ue(r.ue())  # sps id
    if profile in _HIGH_PROFILES:
        chroma = r.ue()
        w.ue(chroma)
        if chroma == 3:
            w.u(1, r.u(1))
        w.ue(r.ue())  # bit depths
        w.ue(r.ue())
        w.u(1, r.u(1))
        scaling = r.u(1)
        if scaling:
            raise ValueError("SPS with scaling matrices")
        w.u(1, 0)
    w.ue(r.ue())  # log2_max_frame_num
    poc = r.ue()
    w.ue(poc)
    if poc == 0:
        w.ue(r.ue())
    elif poc != 2:
        raise ValueError("SPS with POC type 1")
    w.ue(r.ue())  # reference frames
    w.u(1, r.u(1))
    r.ue(), r.ue()
    w.ue(width // 16 - 1)
    w.ue(height // 16 - 1)
    frame_mbs_only = r.u(1)
    if not frame_mbs_only:
        raise ValueError("interlaced SPS")
    w.u(1, 1)
    w.u(1, r.u(1))  # direct_8x8_inference
    if r.u(1):  # cropping: dropped, the new size is whole macroblocks
        for _ in range(4):
            r.ue()
    w.u(1, 0)
    while r.pos < len(rbsp) * 8:
        w.u(1, r.u(1))
    return nal[:1] + _escape(w.to_bytes().rstrip(b"\x00"))


def mp4_boxes(data: bytes, start: int = 0, end: int | None = None):
    """(type, offset, size) of the boxes between `start` and `end`."""
    end = len(data) if end is None else end
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if size < 8 or pos + size > end:
            return
        yield kind, pos, size
        pos += size


# Boxes holding boxes, with the bytes that come before their children.
_MP4_CONTAINERS = {b"moov": 0, b"trak": 0, b"edts": 0, b"mdia": 0, b"minf": 0, b"stbl": 0, b"stsd": 8, b"avc1": 78}


def _rebuild(data: bytes, kind: bytes, pos: int, size: int, edit) -> bytes:
    body = data[pos + 8:pos + size]
    if kind in _MP4_CONTAINERS:
        skip = _MP4_CONTAINERS[kind]
        head = edit(kind + b"/head", body[:skip])
        body = head + b"".join(_rebuild(body, k, p, s, edit) for k, p, s in mp4_boxes(body, skip))
    else:
        body = edit(kind, body)
    return struct.pack(">I", 8 + len(body)) + kind + body


def rewrite_moov(src: Path, dst: Path, edit) -> Path:
    """Copy an MP4 whose moov comes after its mdat, letting `edit(type, body)` change boxes.

    Box sizes are recomputed; with the moov last, no chunk offset moves.
    """
    data = src.read_bytes()
    out = bytearray()
    for kind, pos, size in mp4_boxes(data):
        out += _rebuild(data, kind, pos, size, edit) if kind == b"moov" else data[pos:pos + size]
    dst.write_bytes(bytes(out))
    return dst


def _timescale(data: bytes, kind: bytes) -> int:
    """The time scale of the first mvhd or mdhd box (version 0 or 1)."""
    at = data.find(kind) + 4
    return struct.unpack(">I", data[at + 12:at + 16] if data[at] == 0 else data[at + 20:at + 24])[0]


def _with_duration(body: bytes, duration: int) -> bytes:
    """mvhd/mdhd body with its duration field set."""
    if body[0] == 1:
        return body[:24] + struct.pack(">Q", duration) + body[32:]
    return body[:16] + struct.pack(">I", min(duration, 0xFFFFFFFF)) + body[20:]


def _tkhd_with_duration(body: bytes, duration: int) -> bytes:
    if body[0] == 1:
        return body[:28] + struct.pack(">Q", duration) + body[36:]
    return body[:20] + struct.pack(">I", min(duration, 0xFFFFFFFF)) + body[24:]


# -- Hostile files -----------------------------------------------------------------------------


def base_clip(directory: Path) -> Path:
    """The clip the MP4 bombs start from: 64x48 H.264, 10 frames at 10 fps, moov at the end."""
    path = directory / "base.mp4"
    if not path.exists():
        clips.make_clip(path, width=64, height=48, fps=10, seconds=1.0)
    return path


def mp4_claiming_size(src: Path, dst: Path, width: int, height: int) -> Path:
    """A real clip whose SPS, sample entry and track header all claim `width` x `height`."""
    def edit(kind: bytes, body: bytes) -> bytes:
        if kind == b"avcC":
            if body[5] & 0x1F != 1:
                raise ValueError("expected one SPS")
            length = struct.unpack(">H", body[6:8])[0]
            sps = patch_sps(body[8:8 + length], width, height)
            return body[:6] + struct.pack(">H", len(sps)) + sps + body[8 + length:]
        if kind == b"avc1/head":
            return body[:24] + struct.pack(">HH", min(width, 0xFFFF), min(height, 0xFFFF)) + body[28:]
        if kind == b"tkhd":
            return body[:-8] + struct.pack(">II", width << 16, height << 16)
        return body

    return rewrite_moov(src, dst, edit)


def mp4_claiming_hours(src: Path, dst: Path, hours: float = 10.0, spread_frames: bool = False) -> Path:
    """A 1 s clip whose movie, track, edit list and media headers say `hours` long.

    With `spread_frames` the sample times agree (each of the frames lasts hours/frames), so the
    file really is that long; otherwise only the headers lie.
    """
    data = src.read_bytes()
    movie_scale, media_scale = _timescale(data, b"mvhd"), _timescale(data, b"mdhd")
    movie_units, media_units = int(hours * 3600 * movie_scale), int(hours * 3600 * media_scale)

    def edit(kind: bytes, body: bytes) -> bytes:
        if kind == b"mvhd":
            return _with_duration(body, movie_units)
        if kind == b"mdhd":
            return _with_duration(body, media_units)
        if kind == b"tkhd":
            return _tkhd_with_duration(body, movie_units)
        if kind == b"elst" and body[0] == 0 and struct.unpack(">I", body[4:8])[0] >= 1:
            return body[:8] + struct.pack(">I", min(movie_units, 0xFFFFFFFF)) + body[12:]
        if kind == b"stts" and spread_frames:
            count = struct.unpack(">I", body[4:8])[0]
            samples = sum(struct.unpack(">I", body[8 + 8 * i:12 + 8 * i])[0] for i in range(count))
            return body[:4] + struct.pack(">III", 1, samples, min(media_units // samples, 0xFFFFFFFF))
        return body

    return rewrite_moov(src, dst, edit)


def mp4_claiming_frames(src: Path, dst: Path, frames: int = 2_000_000_000) -> Path:
    """A tiny clip whose sample tables claim `frames` samples (of one fixed size) at 1000 fps."""
    def edit(kind: bytes, body: bytes) -> bytes:
        if kind == b"stsz":
            return body[:4] + struct.pack(">II", 16, frames)
        if kind == b"stts":
            return body[:4] + struct.pack(">III", 1, frames, 1)
        if kind == b"stsc":
            return body[:4] + struct.pack(">IIII", 1, 1, frames, 1)
        if kind == b"stss":
            return body[:4] + struct.pack(">II", 1, 1)
        if kind == b"mdhd":
            return body[:12] + struct.pack(">I", 1000) + body[16:] if body[0] == 0 else body
        return body

    return rewrite_moov(src, dst, edit)


def y4m_claiming_size(dst: Path, width: int, height: int) -> Path:
    """A raw-video header promising `width` x `height` pictures, followed by a few bytes."""
    dst.write_bytes(f"YUV4MPEG2 W{width} H{height} F25:1 Ip A1:1 C420jpeg\nFRAME\n".encode() + b"\x80" * 64)
    return dst


def hls_playlist(dst: Path, entries: list[str]) -> Path:
    """An m3u8 playlist whose segments are `entries` (paths or URLs)."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:10", "#EXT-X-MEDIA-SEQUENCE:0"]
    for entry in entries:
        lines += ["#EXTINF:1.0,", entry]
    lines.append("#EXT-X-ENDLIST")
    dst.write_text("\n".join(lines) + "\n")
    return dst


def concat_script(dst: Path, entries: list[str]) -> Path:
    """An ffconcat script (FFmpeg's concat demuxer recognises it whatever the file's name)."""
    dst.write_text("ffconcat version 1.0\n" + "".join(f"file {entry}\n" for entry in entries))
    return dst


def cut_after_moov(src: Path, dst: Path, keep: int = 64) -> Path:
    """An MP4 with its index in front, cut `keep` bytes into the media data (an upload broken off)."""
    data = src.read_bytes()
    ends = [pos + size for kind, pos, size in mp4_boxes(data) if kind == b"moov"]
    if not ends:
        raise ValueError(f"{src} has no moov box")
    dst.write_bytes(data[:ends[0] + keep])
    return dst


SHARED_AUDIO_ONLY = Path("/work/shared/media/audio_only_aac_coremedia.m4a")


def audio_only(directory: Path) -> Path:
    """The shared corpus's audio-only phone recording, or a generated AAC file where it is absent."""
    if SHARED_AUDIO_ONLY.exists():
        return SHARED_AUDIO_ONLY
    path = directory / "audio_only.m4a"
    return path if path.exists() else clips.make_audio_only(path)


def random_bytes(dst: Path, size: int = 64 * 1024, seed: int = 7) -> Path:
    dst.write_bytes(random.Random(seed).randbytes(size))
    return dst


# The start of /etc/passwd: no output, message or stored file may ever contain it.
PASSWD_HEAD = Path("/etc/passwd").read_bytes()[:32]


class Listener:
    """A real TCP socket on 127.0.0.1 that counts the connections made to it: the address a
    hostile playlist names, which nothing may ever reach."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()


@dataclass(frozen=True)
class Hostile:
    name: str
    path: Path
    expect: frozenset  # the codes it may answer


def hostile_files(directory: Path, port: int) -> list[Hostile]:
    """Every hostile input of issue #7, built in `directory`; `port` is a listener no read may reach."""
    directory.mkdir(parents=True, exist_ok=True)
    base = base_clip(directory)
    mkv = directory / "base.mkv"
    if not mkv.exists():
        clips.make_clip(mkv, container="matroska", width=64, height=48, fps=10, seconds=3.0)
    segment = directory / "segment.ts"
    if not segment.exists():
        clips.make_clip(segment, container="mpegts", width=64, height=48, fps=10, seconds=1.0)
    faststart = directory / "faststart.mp4"
    if not faststart.exists():
        clips.make_clip(faststart, width=64, height=48, fps=10, seconds=3.0, faststart=True)
    leak_url = f"http://127.0.0.1:{port}/segment.ts"
    code = ErrorCode
    files = [
        Hostile("zero bytes", clips.make_empty(directory / "zero.mp4"), frozenset({code.EMPTY_FILE})),
        Hostile("text named .mp4", clips.make_text(directory / "notes.mp4"), frozenset({code.INVALID_VIDEO_FORMAT})),
        Hostile("random bytes", random_bytes(directory / "random.mp4"),
                frozenset({code.INVALID_VIDEO_FORMAT, code.NO_VIDEO_STREAM})),
        Hostile("audio only", audio_only(directory), frozenset({code.NO_VIDEO_STREAM})),
        # The index is at the front and survives; the pictures are cut off.
        Hostile("truncated MP4", cut_after_moov(faststart, directory / "truncated.mp4"),
                frozenset({code.DECODE_FAILED})),
        Hostile("truncated MP4 (no index)", clips.make_truncated(base, directory / "headless.mp4", keep=0.5),
                frozenset({code.INVALID_VIDEO_FORMAT})),
        Hostile("truncated MKV", clips.make_truncated(mkv, directory / "truncated.mkv", keep=0.3),
                frozenset({code.DECODE_FAILED})),
        Hostile("60000x60000 y4m header", y4m_claiming_size(directory / "bomb.y4m", 60000, 60000),
                frozenset({code.RESOURCE_LIMIT_EXCEEDED})),
        Hostile("60000x60000 MP4 (SPS, stsd, tkhd)",
                mp4_claiming_size(base, directory / "bomb60k.mp4", 60000, 60000),
                frozenset({code.RESOURCE_LIMIT_EXCEEDED})),
        Hostile("16000x16000 MP4 (under FFmpeg's own limit)",
                mp4_claiming_size(base, directory / "bomb16k.mp4", 16000, 16000),
                frozenset({code.RESOURCE_LIMIT_EXCEEDED})),
        # Rendering is bounded by the range and the frame cap: these may render (the first
        # seconds exist) or fail with a named error, in seconds either way.
        Hostile("10 h duration (headers only)", mp4_claiming_hours(base, directory / "hours.mp4"),
                frozenset({"ok", code.DECODE_FAILED, code.INVALID_TIME_RANGE})),
        Hostile("10 h duration (10 frames an hour apart)",
                mp4_claiming_hours(base, directory / "hours-spread.mp4", spread_frames=True),
                frozenset({"ok", code.DECODE_FAILED, code.INVALID_TIME_RANGE})),
        Hostile("2e9 frames at 1000 fps", mp4_claiming_frames(base, directory / "frames.mp4"),
                frozenset({code.INVALID_VIDEO_FORMAT, code.DECODE_FAILED, code.RESOURCE_LIMIT_EXCEEDED})),
        # What FFmpeg itself already refuses here (a segment without a media extension, http
        # from a local playlist) and what only the demuxer allow-list stops: another local video.
        Hostile("HLS playlist of /etc/passwd and a local URL (.mp4)",
                hls_playlist(directory / "playlist.mp4", ["file:///etc/passwd", leak_url]),
                frozenset({code.INVALID_VIDEO_FORMAT})),
        Hostile("HLS playlist of /etc/passwd and a local URL (.m3u8)",
                hls_playlist(directory / "playlist.m3u8", ["file:///etc/passwd", leak_url]),
                frozenset({code.INVALID_VIDEO_FORMAT})),
        Hostile("HLS playlist of another local video (.m3u8)",
                hls_playlist(directory / "local.m3u8", [f"file://{segment}", segment.name]),
                frozenset({code.INVALID_VIDEO_FORMAT})),
        Hostile("concat script of /etc/passwd and a local URL (.mp4)",
                concat_script(directory / "concat.mp4", ["/etc/passwd", leak_url]),
                frozenset({code.INVALID_VIDEO_FORMAT})),
        Hostile("concat script of the video beside it (.mp4)",
                concat_script(directory / "concat-local.mp4", [segment.name]),
                frozenset({code.INVALID_VIDEO_FORMAT})),
        # Read plainly, FFmpeg opens it inside itself until it runs out of file descriptors.
        Hostile("concat script naming itself (.mp4)",
                concat_script(directory / "concat-self.mp4", ["concat-self.mp4"] * 2),
                frozenset({code.INVALID_VIDEO_FORMAT})),
    ]
    return files


# -- Mutations ---------------------------------------------------------------------------------


_INTERESTING32 = (0, 1, 0x7F, 0xFF, 0x7FFF, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFFFFFE)
# EBML element ids worth breaking: header, segment, tracks, cluster, pixel width and height,
# duration, timecode scale, codec private, block group.
_EBML_IDS = (b"\x1a\x45\xdf\xa3", b"\x18\x53\x80\x67", b"\x16\x54\xae\x6b", b"\x1f\x43\xb6\x75", b"\xb0", b"\xba",
             b"\x44\x89", b"\x2a\xd7\xb1", b"\x63\xa2", b"\xa0", b"\xe7", b"\xa3")


def _structure_offsets(data: bytes) -> list[int]:
    """Offsets of box headers (MP4) or element ids (EBML), where a changed field matters most."""
    offsets: list[int] = []

    def walk(start: int, end: int, depth: int) -> None:
        for kind, pos, size in mp4_boxes(data, start, end):
            offsets.append(pos)
            if depth < 8 and kind in _MP4_CONTAINERS:
                walk(pos + 8 + _MP4_CONTAINERS[kind], pos + size, depth + 1)

    if data[4:8] == b"ftyp":
        walk(0, len(data), 0)
    else:
        for ident in _EBML_IDS:
            at = data.find(ident)
            while at >= 0 and len(offsets) < 400:
                offsets.append(at + len(ident))
                at = data.find(ident, at + 1)
    return offsets or [0]


def mutate(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    """One seeded mutation of `data`: (what was done, the result)."""
    buf = bytearray(data)
    kind = rng.choice(("flip", "flip", "run", "truncate", "duplicate", "field", "field"))
    if kind == "flip":
        count = rng.choice((1, 2, 4, 8, 32))
        for _ in range(count):
            at = rng.randrange(len(buf))
            buf[at] ^= 1 << rng.randrange(8)
        return f"flip {count} bits", bytes(buf)
    if kind == "run":
        at, length = rng.randrange(len(buf)), rng.choice((1, 4, 16, 64, 256))
        fill = rng.choice((b"\x00", b"\xff", None))
        run = fill * length if fill else rng.randbytes(length)
        buf[at:at + length] = run[: len(buf) - at]
        return f"run of {length} at {at}", bytes(buf)
    if kind == "truncate":
        # Mostly in the first quarter, where the headers are.
        cut = int(len(buf) * rng.random() ** 2)
        return f"truncate to {cut}", bytes(buf[:cut])
    if kind == "duplicate":
        at, length = rng.randrange(len(buf)), rng.choice((8, 64, 512, 4096))
        chunk = bytes(buf[at:at + length])
        to = rng.randrange(len(buf))
        buf[to:to] = chunk * rng.choice((1, 2, 8))
        return f"duplicate {len(chunk)} bytes from {at} at {to}", bytes(buf)
    at = rng.choice(_structure_offsets(data)) + rng.choice((0, 4, 8, 12, 16, 20, 24))
    value = rng.choice(_INTERESTING32 + (rng.getrandbits(32), len(data)))
    width = rng.choice((1, 2, 4))
    if at + width <= len(buf):
        buf[at:at + width] = (value & ((1 << 8 * width) - 1)).to_bytes(width, "big")
    return f"field at {at} := {value:#x} ({width} bytes)", bytes(buf)


def seed_clips(directory: Path) -> list[Path]:
    """The real clips mutations start from: a 64x48 MP4 (H.264 + AAC, index in front) and a WebM
    (VP9), 10 frames each."""
    directory.mkdir(parents=True, exist_ok=True)
    mp4, webm = directory / "seed.mp4", directory / "seed.webm"
    if not mp4.exists():
        clips.make_clip(mp4, width=64, height=48, fps=10, seconds=1.0, audio=True, faststart=True, gop=5)
    if not webm.exists():
        clips.make_clip(webm, codec="libvpx-vp9", width=64, height=48, fps=10, seconds=1.0)
    return [mp4, webm]


# -- Running a case ----------------------------------------------------------------------------


@dataclass
class Outcome:
    probe: str  # "ok" or the error code
    render: str
    seconds: float
    message: str = ""


def run_case(path: Path, out: Path, fmt: str = "gif", timeout: float = CASE_TIMEOUT,
             memory_limit_mb: int = MEMORY_LIMIT_MB) -> Outcome:
    """Probe and render `path` in isolated children, as the product does; check a success's output.

    Raises AssertionError when an output does not reopen as promised.
    """
    started = time.monotonic()
    try:
        probe_isolated(path, timeout=timeout, memory_limit_mb=memory_limit_mb)
        probe = "ok"
    except EncodeError as exc:
        probe = str(exc.code)
    spec = RenderSpec(format=fmt, width=48, fps=10, duration=1.0)
    try:
        result = render_isolated(path, spec, out, timeout=timeout, memory_limit_mb=memory_limit_mb)
    except EncodeError as exc:
        leftovers = [p.name for p in out.parent.iterdir()]
        assert not leftovers, f"a failed render left {leftovers}"
        return Outcome(probe, str(exc.code), time.monotonic() - started, exc.message)
    seconds = time.monotonic() - started
    anim = open_animation(out)
    assert len(anim.frames) > 0, "the output has no frames"
    # Resolution-adaptive (the default): 48 is the long edge, whichever way the picture is turned.
    assert (anim.width, anim.height) == (result.width, result.height) and max(anim.width, anim.height) == 48, (
        f"output {anim.width}x{anim.height}, result says {result.width}x{result.height}")
    assert result.frames == len(anim.frames)
    out.unlink()
    return Outcome(probe, "ok", seconds)


def peak_child_rss_mb() -> float:
    """The largest resident size any finished child of this process reached (Linux: KiB)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


@dataclass
class Figures:
    cases: int
    seconds: float
    outcomes: Counter  # "ok", an error code, or "bad output"
    crashes: int  # DecodeFailed because the decoder child died of a signal
    slowest: tuple[float, str]
    findings: list[str]  # a bad output, or a code outside KNOWN_CODES (InternalError, ProcessTimeout)
    peak_child_rss_mb: float


def fuzz(count: int, seed: int, work: Path, timeout: float = CASE_TIMEOUT, report=None) -> Figures:
    """Run `count` seeded mutations of the seed clips, alternating GIF and WebP renders."""
    seeds = [(p, p.read_bytes()) for p in seed_clips(work / "seeds")]
    out_dir = work / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    figures = Figures(count, 0.0, Counter(), 0, (0.0, ""), [], 0.0)
    started = time.monotonic()
    for i in range(count):
        src, data = seeds[i % len(seeds)]
        what, mutated = mutate(data, random.Random(f"{seed}:{i}"))
        case = work / f"case{src.suffix}"
        case.write_bytes(mutated)
        label = f"case {i} ({src.name}: {what})"
        fmt = "gif" if i % 2 else "webp"
        try:
            outcome = run_case(case, out_dir / f"out.{fmt}", fmt=fmt, timeout=timeout)
        except AssertionError as exc:
            figures.findings.append(f"{label}: bad output: {exc}")
            figures.outcomes["bad output"] += 1
            continue
        figures.outcomes[outcome.render] += 1
        if outcome.render != "ok" and ErrorCode(outcome.render) not in KNOWN_CODES:
            figures.findings.append(f"{label}: {outcome.render}: {outcome.message}")
        figures.crashes += "crashed" in outcome.message
        if outcome.seconds > figures.slowest[0]:
            figures.slowest = (outcome.seconds, label)
        if report and (i + 1) % 500 == 0:
            report(f"{i + 1} cases, {time.monotonic() - started:.0f} s")
    figures.seconds = time.monotonic() - started
    figures.peak_child_rss_mb = peak_child_rss_mb()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="loopdeck-fuzz-") as tmp:
        figures = fuzz(args.count, args.seed, Path(tmp), report=lambda line: print(line, flush=True))
    print(f"cases: {figures.cases} in {figures.seconds:.1f} s ({figures.seconds / max(1, figures.cases) * 1000:.0f} ms each)")
    for code, n in figures.outcomes.most_common():
        print(f"  {code}: {n}")
    print(f"decoder crashes (DecodeFailed from a signal): {figures.crashes}")
    print(f"slowest: {figures.slowest[0]:.2f} s, {figures.slowest[1]}")
    print(f"peak child RSS: {figures.peak_child_rss_mb:.0f} MB (includes the pages shared with this process)")
    print(f"findings: {len(figures.findings)}")
    for line in figures.findings:
        print("  " + line)
    return 1 if figures.findings else 0


if __name__ == "__main__":
    sys.exit(main())
