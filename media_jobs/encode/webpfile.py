"""Reading and patching the RIFF chunks of a WebP file written by FFmpeg's libwebp_anim.

libwebp's animation encoder merges a frame identical to the one before into it. When every frame
of a range is identical (a still shot, a paused screen recording) nothing is left to animate and
it writes a plain still image: no ANIM chunk, no frame durations, no loop. `ensure_animated`
turns such a file back into an animation that plays for the range: the still picture, then a
1x1 fully transparent lossless frame blended over it (invisible, 46 bytes) for the last slot, so
every viewer shows the picture for the whole time and loops as asked.
"""

from __future__ import annotations

import contextlib
import struct
from dataclasses import dataclass
from typing import BinaryIO

_RIFF_HEADER = 12
_ANMF_HEADER = 16  # x/2, y/2, width-1, height-1, duration (24 bits each), flags (8 bits)
_DURATION_AT = 12  # the duration field's offset inside an ANMF payload
_MAX_DURATION = (1 << 24) - 1

# VP8X flags and ANMF flags (WebP container specification).
_VP8X_ANIMATION = 0x02
_VP8X_ALPHA = 0x10
_ANMF_NO_BLEND = 0x02

# A 1x1 lossless (VP8L) picture whose single pixel is transparent black, as libwebp encodes it:
# signature 0x2f, 14-bit width-1 and height-1 (both 0), alpha-used bit, then the coded pixel.
_TRANSPARENT_PIXEL_VP8L = bytes.fromhex("2f00000010071011118888fe07")


@dataclass(frozen=True)
class Chunk:
    """One RIFF chunk: its fourcc, the payload's file offset and size."""

    fourcc: bytes
    offset: int
    size: int


def read_chunks(handle: BinaryIO) -> list[Chunk]:
    """The top-level chunks of a WebP file (empty if it is not one), reading only their headers."""
    handle.seek(0)
    header = handle.read(_RIFF_HEADER)
    if len(header) < _RIFF_HEADER or header[:4] != b"RIFF" or header[8:12] != b"WEBP":
        return []
    chunks: list[Chunk] = []
    pos = _RIFF_HEADER
    while True:
        handle.seek(pos)
        head = handle.read(8)
        if len(head) < 8:
            return chunks
        size = struct.unpack_from("<I", head, 4)[0]
        chunks.append(Chunk(head[:4], pos + 8, size))
        pos += 8 + size + (size & 1)


def frame_durations(path: str) -> list[int]:
    """Display time in ms of each frame stored in an animated WebP (its ANMF chunks).

    libwebp merges a frame identical to the one before into it (adding the durations), so the
    file can hold fewer frames than were encoded; the total time is unchanged.
    """
    with open(path, "rb") as handle:
        return [_read_u24(handle, c.offset + _DURATION_AT) for c in read_chunks(handle) if c.fourcc == b"ANMF"]


def has_alpha(path: str) -> bool:
    """Whether a WebP file says it has alpha (its VP8X flags) or holds an ALPH chunk."""
    with open(path, "rb") as handle:
        chunks = read_chunks(handle)
        for chunk in chunks:
            if chunk.fourcc == b"ALPH":
                return True
            if chunk.fourcc == b"VP8X":
                handle.seek(chunk.offset)
                if handle.read(1)[0] & _VP8X_ALPHA:
                    return True
    return False


def set_total_duration(path: str, total_ms: int) -> None:
    """Make the frame durations add up to `total_ms` exactly by adjusting the last one.

    FFmpeg's libwebp_anim wrapper ends the last frame 1 ms after its start instead of at its
    real end; the duration field is a fixed 24-bit slot, so it is rewritten in place.
    """
    with open(path, "r+b") as handle:
        frames = [c for c in read_chunks(handle) if c.fourcc == b"ANMF"]
        if not frames:
            return
        earlier = sum(_read_u24(handle, c.offset + _DURATION_AT) for c in frames[:-1])
        last = total_ms - earlier
        if 0 < last <= _MAX_DURATION and last != _read_u24(handle, frames[-1].offset + _DURATION_AT):
            handle.seek(frames[-1].offset + _DURATION_AT)
            handle.write(last.to_bytes(3, "little"))


def ensure_animated(path: str, width: int, height: int, durations: list[int], loop: int) -> None:
    """Rewrite a still WebP as an animation of the given frame durations (ms); leave others alone.

    `durations` are the encoded frames' delays: with two or more, the picture plays for all but
    the last and the invisible frame for the last; with one, the picture is the only frame.
    """
    with open(path, "rb") as handle:
        chunks = read_chunks(handle)
        if not chunks or any(c.fourcc in (b"ANIM", b"ANMF") for c in chunks) or not durations:
            return
        # A still image: one picture, small enough to handle in memory.
        handle.seek(0)
        data = handle.read()
    animation = still_as_animation(data, chunks, width, height, durations, loop)
    if animation is not None:
        with open(path, "wb") as handle:
            handle.write(animation)


def still_as_animation(data: bytes, chunks: list[Chunk], width: int, height: int, durations: list[int],
                       loop: int) -> bytes | None:
    """The still WebP `data` (its `chunks`) as an animation of `durations`; None if it holds no picture."""
    picture = b"".join(_chunk_bytes(data, c) for c in chunks if c.fourcc in (b"ALPH", b"VP8 ", b"VP8L"))
    if not picture:
        return None
    total = min(sum(durations), _MAX_DURATION)
    frames = []
    if len(durations) >= 2:
        last = min(durations[-1], total - 1)
        frames.append(_anmf(0, 0, width, height, total - last, _ANMF_NO_BLEND, picture))
        frames.append(_anmf(0, 0, 1, 1, last, 0, _riff_chunk(b"VP8L", _TRANSPARENT_PIXEL_VP8L)))
        flags = _VP8X_ANIMATION | _VP8X_ALPHA
    else:
        has_alpha = any(c.fourcc == b"ALPH" for c in chunks) or _vp8l_has_alpha(data, chunks)
        frames.append(_anmf(0, 0, width, height, total, _ANMF_NO_BLEND, picture))
        flags = _VP8X_ANIMATION | (_VP8X_ALPHA if has_alpha else 0)
    vp8x = struct.pack("<B3x", flags) + _u24_bytes(width - 1) + _u24_bytes(height - 1)
    # Background colour (BGRA; a hint viewers may ignore) and the number of plays, 0 = forever.
    anim = struct.pack("<IH", 0, min(max(loop, 0), 0xFFFF))
    body = b"WEBP" + _riff_chunk(b"VP8X", vp8x) + _riff_chunk(b"ANIM", anim) + b"".join(frames)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _anmf(x: int, y: int, width: int, height: int, duration: int, flags: int, image: bytes) -> bytes:
    header = (_u24_bytes(x // 2) + _u24_bytes(y // 2) + _u24_bytes(width - 1) + _u24_bytes(height - 1)
              + _u24_bytes(duration) + bytes([flags]))
    return _riff_chunk(b"ANMF", header + image)


def _vp8l_has_alpha(data: bytes, chunks: list[Chunk]) -> bool:
    for chunk in chunks:
        if chunk.fourcc == b"VP8L" and chunk.size >= 5:
            # The alpha-is-used bit follows the signature byte and two 14-bit sizes.
            return bool(data[chunk.offset + 4] & 0x10)
    return False


def _chunk_bytes(data: bytes, chunk: Chunk) -> bytes:
    end = chunk.offset + chunk.size + (chunk.size & 1)
    return data[chunk.offset - 8:end]


def _riff_chunk(fourcc: bytes, payload: bytes) -> bytes:
    pad = b"\0" if len(payload) & 1 else b""
    return fourcc + struct.pack("<I", len(payload)) + payload + pad


def _read_u24(handle: BinaryIO, offset: int) -> int:
    handle.seek(offset)
    return int.from_bytes(handle.read(3), "little")


def _u24_bytes(value: int) -> bytes:
    return int(value).to_bytes(3, "little")


def join_animations(parts: list[str | BinaryIO], out: str | BinaryIO) -> None:
    """Write the frames of the animated WebP files `parts`, in order, as one animation to `out`.

    Parts and `out` are paths or open binary files. The canvas and loop count come from the
    first part. Every later part must begin with a frame that covers the whole canvas (a key
    frame of an opaque picture); it is marked not to blend, so nothing of the part before shows
    through.
    """
    with contextlib.ExitStack() as stack:
        handles = [stack.enter_context(open(part, "rb")) if isinstance(part, str) else part for part in parts]
        layouts = [read_chunks(handle) for handle in handles]
        first = {c.fourcc: c for c in layouts[0]}
        if b"VP8X" not in first or b"ANIM" not in first:
            raise ValueError(f"{parts[0]} is not an animated WebP")
        vp8x = bytearray(_payload(handles[0], first[b"VP8X"]))
        canvas = (_u24(vp8x, 4) + 1, _u24(vp8x, 7) + 1)
        for handle, chunks in zip(handles, layouts):
            for chunk in chunks:
                if chunk.fourcc == b"VP8X":
                    vp8x[0] |= _payload(handle, chunk)[0]
        frames = []
        for number, (handle, chunks) in enumerate(zip(handles, layouts)):
            anmf = [c for c in chunks if c.fourcc == b"ANMF"]
            frames += [(handle, c, number > 0 and i == 0) for i, c in enumerate(anmf)]
        body = 4 + 8 + len(vp8x) + 8 + first[b"ANIM"].size + sum(8 + c.size + (c.size & 1) for _, c, _ in frames)
        target = stack.enter_context(open(out, "wb")) if isinstance(out, str) else out
        target.write(b"RIFF" + struct.pack("<I", body) + b"WEBP")
        target.write(_riff_chunk(b"VP8X", bytes(vp8x)))
        target.write(_riff_chunk(b"ANIM", _payload(handles[0], first[b"ANIM"])))
        for handle, chunk, starts_part in frames:
            header = bytearray(_payload(handle, chunk, _ANMF_HEADER))
            if starts_part:
                x, y = _u24(header, 0) * 2, _u24(header, 3) * 2
                size = (_u24(header, 6) + 1, _u24(header, 9) + 1)
                if (x, y) != (0, 0) or size != canvas:
                    raise ValueError("a later part does not begin with a whole-canvas frame")
                header[15] |= _ANMF_NO_BLEND
            target.write(b"ANMF" + struct.pack("<I", chunk.size) + header)
            _copy_range(handle, chunk.offset + _ANMF_HEADER, chunk.size - _ANMF_HEADER + (chunk.size & 1), target)


def _payload(handle: BinaryIO, chunk: Chunk, limit: int | None = None) -> bytes:
    handle.seek(chunk.offset)
    return handle.read(chunk.size if limit is None else min(limit, chunk.size))


def _copy_range(handle: BinaryIO, offset: int, length: int, target: BinaryIO) -> None:
    handle.seek(offset)
    while length > 0:
        block = handle.read(min(length, 1 << 20))
        if not block:
            raise ValueError("a part ended early")
        target.write(block)
        length -= len(block)


def _u24(data: bytes | bytearray, offset: int) -> int:
    return int.from_bytes(data[offset:offset + 3], "little")
