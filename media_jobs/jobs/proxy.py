"""A browser-playable copy of a video that browsers cannot play (HEVC, MJPEG, MPEG-4 Part 2,
FLV, MPEG-TS/AVCHD, H.263...): H.264/AAC in MP4, at most 720 lines, for the console's player only.

It is made by its own job, queued when the prepare job marks the video READY, so READY and the
renders never wait for it. It lives beside the original under a fixed name, so no column and no
migration are needed: the player asks the storage whether it exists."""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import close_old_connections

from media_jobs.encode import EncodeError, MediaInfo
from media_jobs.jobs import scratch
from media_jobs.jobs.common import local_copy
from media_jobs.models import Video
from media_jobs.models.videos import proxy_name

log = logging.getLogger(__name__)

MAX_LINES = 720
# Containers and codecs Chromium, Firefox and Safari all play in a <video> element.
_PLAYABLE_CONTAINERS = ("mov", "mp4", "matroska", "webm", "ogg")
_PLAYABLE_VIDEO = {"h264": ("yuv420p", "yuvj420p"), "vp8": None, "vp9": ("yuv420p",), "av1": ("yuv420p",)}
_PLAYABLE_AUDIO = {"aac", "mp3", "opus", "vorbis", "flac"}


def browser_playable(info: MediaInfo | None) -> bool:
    """Whether a browser plays the original as it is."""
    if info is None or not info.video_streams:
        return False
    if not any(name in _PLAYABLE_CONTAINERS for name in info.container.split(",")):
        return False
    stream = info.video_streams[0]
    pix_fmts = _PLAYABLE_VIDEO.get(stream.codec, ())
    if pix_fmts == () or (pix_fmts is not None and stream.pix_fmt not in pix_fmts):
        return False
    return all(a.codec in _PLAYABLE_AUDIO for a in info.audio_streams[:1])


def playable_name(video: Video) -> str | None:
    """The stored file the player should load: the original when browsers play it, else the proxy
    once made; None while there is nothing playable yet."""
    if not video.file:
        return None
    if browser_playable(video.media_info):
        return video.file.name
    name = proxy_name(video)
    return name if default_storage.exists(name) else None


def make_proxy(video_pk: int) -> str:
    """The job: transcode in an isolated child (hostile files stay in the sandbox), store, done.
    A proxy that fails is only logged: the video stays READY and renders work from the original."""
    from media_jobs.encode import run_isolated
    close_old_connections()
    video = Video.objects.filter(pk=video_pk, status=Video.Status.READY).first()
    if video is None or browser_playable(video.media_info):
        return "not needed"
    name = proxy_name(video)
    if default_storage.exists(name):
        return "exists"
    try:
        with scratch.scratch_folder("loopdeck-proxy-") as tmp, local_copy(video.file, tmp) as source:
            out = Path(tmp) / "proxy.mp4"
            run_isolated(transcode, source, out, timeout=settings.RENDER_TIMEOUT,
                         memory_limit_mb=settings.RENDER_MEMORY_LIMIT_MB)
            with out.open("rb") as handle:
                default_storage.save(name, File(handle))
    except EncodeError as exc:
        log.warning("no playable proxy for video %s: %s", video.pk, exc)
        return "failed"
    return "made"


def _even(n: float) -> int:
    return max(2, int(round(n / 2)) * 2)


def transcode(source: Path, out: Path, max_lines: int = MAX_LINES) -> None:
    """H.264 (yuv420p, veryfast, CRF 28) + AAC in MP4 with the index first, picture turned upright
    as the source's display matrix asks, at most `max_lines` on the short side."""
    import av
    import numpy as np

    rotate = _first_picture_rotation(source)
    with av.open(str(source)) as src, av.open(str(out), "w", format="mp4", options={"movflags": "+faststart"}) as dst:
        vin = src.streams.video[0]
        vin.thread_type = "AUTO"
        ain = src.streams.audio[0] if src.streams.audio else None
        w, h = vin.codec_context.width, vin.codec_context.height
        scale = min(1.0, max_lines / max(1, min(w, h)))
        tw, th = _even(w * scale), _even(h * scale)
        vout = dst.add_stream("libx264", rate=30, options={"preset": "veryfast", "crf": "28"})
        vout.pix_fmt = "yuv420p"
        vout.width, vout.height = (th, tw) if rotate in (90, 270) else (tw, th)
        vout.codec_context.time_base = Fraction(1, 1000)
        aout = resampler = None
        if ain is not None:
            aout = dst.add_stream("aac", rate=48000)
            aout.layout = "stereo"
            resampler = av.AudioResampler(format="fltp", layout="stereo", rate=48000)
        last_pts = -1
        for packet in src.demux(*([vin] + ([ain] if ain is not None else []))):
            try:
                frames = packet.decode()
            except av.error.InvalidDataError:
                continue
            for frame in frames:
                if packet.stream is vin:
                    if frame.pts is None:
                        continue
                    pts = int(frame.pts * frame.time_base * 1000)
                    if pts <= last_pts:  # a player needs rising times; duplicates are dropped
                        continue
                    last_pts = pts
                    picture = frame.reformat(width=tw, height=th, format="rgb24")
                    if rotate:
                        array = np.rot90(picture.to_ndarray(), k=-rotate // 90)
                        picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(array), format="rgb24")
                    picture.pts, picture.time_base = pts, Fraction(1, 1000)
                    for p in vout.encode(picture):
                        dst.mux(p)
                elif aout is not None and resampler is not None:
                    frame.pts = None
                    for chunk in resampler.resample(frame):
                        for p in aout.encode(chunk):
                            dst.mux(p)
        if last_pts < 0:
            raise EncodeError("DecodeFailed", "no picture could be decoded for the playable copy")
        for p in vout.encode():
            dst.mux(p)
        if aout is not None:
            for p in aout.encode():
                dst.mux(p)


def _first_picture_rotation(source: Path) -> int:
    """The display matrix's turn (degrees clockwise), read from the first picture as probe does."""
    import av

    from media_jobs.encode.probe import rotation_cw

    with av.open(str(source)) as src:
        for frame in src.decode(video=0):
            return rotation_cw(frame)
    return 0
