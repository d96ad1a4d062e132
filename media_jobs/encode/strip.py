"""thumbnail_strip(path, out): pictures along the video side by side in one JPEG, for the console's
player to show as a strip of thumbnails (one small image instead of the browser seeking and
decoding the original ten times).

Each tile is the key frame at or before its target time, decoded alone, so a 4K source costs
about ten picture decodes. Targets that share a key frame (a long key-frame interval)
share a tile, so the strip can have fewer tiles than asked; each tile records the time of the
picture it shows, for the player to seek to.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from fractions import Fraction

import av.error
from PIL import Image

from .errors import EncodeError, ErrorCode
from .frames import to_fraction
from .geometry import Layout
from .probe import Orientation, frame_sar, rotation_cw
from .render import remove_quietly, temp_path_for
from .scaler import OutputFormat, Scaler
from .snapshot import default_time, frame_at
from .source import estimate_duration, named_errors, open_input, pick_video_stream, time_origin

JPEG_QUALITY = 80
MAX_TILES = 10
# Packets read after a seek before a tile is given up (no key frame flagged there).
_MAX_PACKETS = 600


@dataclass(frozen=True)
class Strip:
    """The tiles of a strip, left to right: each `tile_width` x `tile_height`, showing `times`."""

    tile_width: int
    tile_height: int
    times: tuple[float, ...]


def tile_times(duration: float, count: int = MAX_TILES) -> list[float]:
    """Where the tiles aim: the middles of `count` equal parts (one a second for short videos)."""
    count = max(1, min(count, math.ceil(duration)))
    return [(i + 0.5) * duration / count for i in range(count)]


def thumbnail_strip(path: str | os.PathLike, out: str | os.PathLike, height: int = 108,
                    count: int = MAX_TILES) -> Strip:
    """Write the strip of up to `count` tiles `height` pixels tall to `out` (JPEG)."""
    if not isinstance(height, int) or height < 16:
        raise EncodeError(ErrorCode.INVALID_PARAMETER, "height must be a whole number of at least 16",
                          field="height")
    tmp = temp_path_for(out)
    try:
        with named_errors("making thumbnails"), open_input(path) as container:
            tiles = _tiles(container, height, count)
        if not tiles:
            raise EncodeError(ErrorCode.DECODE_FAILED, "no key frame could be decoded for the thumbnails")
        width, tile_height = tiles[0][1].size
        sheet = Image.new("RGB", (width * len(tiles), tile_height))
        for i, (_, picture) in enumerate(tiles):
            sheet.paste(picture, (i * width, 0))
        sheet.save(tmp, format="JPEG", quality=JPEG_QUALITY, optimize=True)
        os.replace(tmp, os.fspath(out))
    except BaseException:
        remove_quietly(tmp)
        raise
    return Strip(width, tile_height, tuple(round(t, 3) for t, _ in tiles))


def _tiles(container, height: int, count: int) -> list[tuple[float, Image.Image]]:
    stream = pick_video_stream(container)
    duration = estimate_duration(container, stream).seconds or 0.0
    origin = time_origin(container)
    found: list[tuple[float, av.VideoFrame]] = []
    for target in tile_times(duration, count) if duration > 0 else [0.0]:
        # Targets sharing a key frame share its tile: it is decoded once.
        picture = _key_frame_before(container, stream, origin, target, found[-1][0] if found else None)
        if picture is not None:
            found.append(picture)
    if not found:
        # No key frame flagged where the index led (camera MPEG-TS, a broken index): the picture
        # shown near the start, decoded as the cover is.
        frame = frame_at(container, stream, to_fraction(default_time(duration)))
        found = [(0.0, frame)] if frame is not None else []
    if not found:
        return []
    first = found[0][1]
    orientation = Orientation(rotation_cw(first), frame_sar(first, stream))
    display_w, display_h = orientation.display_size(first.width, first.height)
    width = max(1, min(4 * height, round(height * display_w / display_h)))
    scaler = Scaler(Layout(width, height, width, height), orientation.rotate, OutputFormat("rgb24"))
    return [(at, scaler(frame).to_image()) for at, frame in found]


def _key_frame_before(container, stream, origin: Fraction, target: float,
                      after: float | None) -> tuple[float, av.VideoFrame] | None:
    """The key frame at or before `target` (where the index leads), decoded alone, with its time;
    None when there is none, or when it is not later than `after`."""
    tb = stream.time_base
    try:
        container.seek(int((Fraction(target).limit_denominator(1000) + origin) / tb), stream=stream,
                       backward=True, any_frame=False)
    except av.error.FFmpegError:
        return None
    decoder = stream.codec_context
    for packets, packet in enumerate(container.demux(stream)):
        if packets >= _MAX_PACKETS:
            return None
        if not packet.is_keyframe or not packet.size:
            continue
        if after is not None and packet.pts is not None and float(Fraction(packet.pts) * tb - origin) <= after:
            return None
        decoder.flush_buffers()
        try:
            # The key frame alone, then drained: no other picture is decoded.
            frames = [*decoder.decode(packet), *decoder.decode(None)]
        except av.error.MemoryError:
            raise
        except av.error.FFmpegError:
            continue  # a damaged key frame: the next one
        finally:
            decoder.flush_buffers()
        if frames:
            frame = frames[0]
            pts = frame.pts if frame.pts is not None else packet.pts
            at = float(Fraction(pts) * tb - origin) if pts is not None else target
            return max(0.0, at), frame
    return None

