"""The synthetic test picture: hard-for-GIF content rendered fast with numpy and Pillow.

A camera pan over a 1/f "natural" texture with fine detail, a sky gradient with a moving sun glow
(banding), five shaded spheres on Lissajous paths (two fast), a rotating striped bar (aliasing),
a time-code box and a scrolling ticker (sharp text), a scene cut at 7.5 s and every 10 s after
(new colour grade, pan direction reversed). Film grain and a slow brightness drift are added to
the luma plane by the encoder loop (`clips.py`), where they cost a third as much.

Everything is precomputed per clip or per scene; a frame is slices, small sprite blends and two
small text images. Same parameters, same pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FIRST_CUT_S = 7.5
SCENE_LENGTH_S = 10.0
SKY_SHARE = 0.38
PAN_SPEED = 110.0  # px/s at 1080p

# (dark, light, chroma mix) per scene: each cut changes the whole grade.
GRADES = (
    ((34, 52, 20), (196, 214, 150), (40, -10, -30)),
    ((60, 30, 22), (236, 190, 140), (-20, 30, 40)),
    ((18, 34, 58), (150, 200, 236), (30, 30, -40)),
    ((44, 44, 44), (224, 220, 206), (25, -25, 25)),
    ((50, 20, 50), (230, 160, 210), (-35, 40, -10)),
    ((20, 48, 40), (170, 236, 200), (40, -35, 10)),
    ((64, 48, 10), (250, 226, 120), (-30, 10, 45)),
)
SKIES = (
    ((40, 90, 170), (205, 225, 245)),
    ((120, 60, 90), (250, 190, 140)),
    ((10, 20, 60), (90, 130, 200)),
    ((90, 110, 130), (230, 232, 236)),
    ((70, 30, 110), (240, 160, 200)),
    ((30, 90, 110), (200, 240, 235)),
    ((150, 90, 20), (252, 230, 170)),
)
SPHERE_COLOURS = ((220, 60, 50), (60, 170, 80), (70, 90, 220), (235, 200, 60), (200, 200, 210))


def scene_index(t: float) -> int:
    """Which scene is on screen at time t (cuts at 7.5 s, 17.5 s, 27.5 s, ...)."""
    if t < FIRST_CUT_S:
        return 0
    return 1 + int((t - FIRST_CUT_S) // SCENE_LENGTH_S)


def scene_start(index: int) -> float:
    return 0.0 if index == 0 else FIRST_CUT_S + (index - 1) * SCENE_LENGTH_S


def pink_noise(rng: np.random.Generator, height: int, width: int, beta: float = 0.85) -> np.ndarray:
    """A 1/f^beta noise field in [0, 1], float32: natural-looking, with detail at every scale."""
    spectrum = rng.standard_normal((height, width // 2 + 1)) + 1j * rng.standard_normal((height, width // 2 + 1))
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.rfftfreq(width)[None, :]
    f = np.sqrt(fx * fx + fy * fy)
    f[0, 0] = 1.0
    field = np.fft.irfft2(spectrum / f ** beta, s=(height, width)).astype(np.float32)
    lo, hi = np.percentile(field, (0.5, 99.5))
    return np.clip((field - lo) / (hi - lo), 0.0, 1.0)


def _sphere_sprite(radius: int, colour: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """A lit sphere: RGB uint8 and alpha uint16 (0..255, anti-aliased edge)."""
    size = 2 * radius + 2
    c = (size - 1) / 2
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    nx, ny = (xx - c) / radius, (yy - c) / radius
    d2 = nx * nx + ny * ny
    nz = np.sqrt(np.clip(1.0 - d2, 0.0, 1.0))
    light = np.array([-0.45, -0.55, 0.70], dtype=np.float32)
    light /= np.linalg.norm(light)
    lambert = np.clip(nx * light[0] + ny * light[1] + nz * light[2], 0.0, 1.0)
    spec = lambert ** 40
    shade = 0.18 + 0.82 * lambert
    rgb = np.stack([np.clip(ch * shade + 255 * spec, 0, 255) for ch in colour], axis=2).astype(np.uint8)
    edge = np.clip((1.0 - np.sqrt(d2)) * radius + 0.5, 0.0, 1.0)
    return rgb, (edge * 255).astype(np.uint16)


def _glow_sprite(radius: int) -> np.ndarray:
    """An additive sun glow (uint16, one channel), a wide gaussian with a bright core."""
    size = 2 * radius + 1
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) - radius
    r2 = (xx * xx + yy * yy) / (radius * radius)
    glow = 150 * np.exp(-r2 * 6.0) + 80 * np.exp(-r2 * 40.0)
    return glow.astype(np.uint16)


def _blend(dst: np.ndarray, rgb: np.ndarray, alpha: np.ndarray, x: int, y: int) -> None:
    """Alpha-blend a sprite into dst at (x, y), clipped to dst's bounds."""
    h, w = alpha.shape
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + w, dst.shape[1]), min(y + h, dst.shape[0])
    if x0 >= x1 or y0 >= y1:
        return
    sa = alpha[y0 - y:y1 - y, x0 - x:x1 - x, None]
    src = rgb[y0 - y:y1 - y, x0 - x:x1 - x].astype(np.uint16)
    region = dst[y0:y1, x0:x1]
    region[...] = (src * sa + region.astype(np.uint16) * (255 - sa) + 127) // 255


@dataclass
class _Scene:
    texture: np.ndarray  # RGB uint8, wider than the frame by the pan range
    sky: np.ndarray  # RGB uint8, sky rows of the frame
    direction: int


class Picture:
    """Renders frame RGB arrays of one clip; scenes are built lazily and the last one is kept."""

    def __init__(self, width: int, height: int, fps: int, seed: int) -> None:
        self.width, self.height, self.fps = width, height, fps
        self.k = width / 1920.0
        self.seed = seed
        self.sky_rows = int(height * SKY_SHARE)
        self.pan_range = int(math.ceil(PAN_SPEED * self.k * (SCENE_LENGTH_S + 1)))
        rng = np.random.default_rng(seed)
        land_rows = height - self.sky_rows + 16
        self.lum = pink_noise(rng, land_rows, width + self.pan_range)
        self.chroma = pink_noise(rng, land_rows, width + self.pan_range, beta=1.2) - 0.5
        self.spheres = [_sphere_sprite(int(r * self.k), col)
                        for r, col in zip((70, 48, 95, 60, 38), SPHERE_COLOURS)]
        self.glow = _glow_sprite(int(260 * self.k))
        self.bar = self._bar_image()
        self.font = ImageFont.load_default(size=max(12, int(44 * self.k)))
        self.ticker = self._ticker_strip()
        self._scene_cache: tuple[int, _Scene] | None = None

    def _bar_image(self) -> Image.Image:
        w, h = int(560 * self.k), int(56 * self.k)
        img = Image.new("RGBA", (w, h), (0, 0, 0, 0))
        draw = ImageDraw.Draw(img)
        stripe = max(2, int(6 * self.k))
        for i, x in enumerate(range(0, w, stripe)):
            colour = (250, 250, 250, 255) if i % 2 else (15, 15, 15, 255)
            draw.rectangle((x, 0, x + stripe - 1, h - 1), fill=colour)
        return img

    def _ticker_strip(self) -> np.ndarray:
        text = ("LOOPDECK BENCHMARK +++ The quick brown fox jumps over the lazy dog 0123456789 "
                "+++ Sphinx of black quartz, judge my vow! @#$%&*()[] +++ ")
        h = int(64 * self.k)
        width = int(self.font.getlength(text)) + 40
        img = Image.new("RGB", (width, h), (12, 18, 40))
        ImageDraw.Draw(img).text((20, (h - self.font.size) // 2 - 2), text, font=self.font,
                                 fill=(255, 240, 120))
        strip = np.asarray(img)
        self.ticker_period = width
        # Enough copies that any window starting within the first copy is whole.
        reps = 2 + self.width // width
        return np.concatenate([strip] * reps, axis=1)

    def _scene(self, index: int) -> _Scene:
        if self._scene_cache and self._scene_cache[0] == index:
            return self._scene_cache[1]
        dark, light, mix = (np.array(v, dtype=np.float32) for v in GRADES[index % len(GRADES)])
        tex = dark + (light - dark) * self.lum[:, :, None] + mix * self.chroma[:, :, None] * 2
        texture = np.clip(tex, 0, 255).astype(np.uint8)
        top, bottom = (np.array(v, dtype=np.float32) for v in SKIES[index % len(SKIES)])
        ramp = np.linspace(0.0, 1.0, self.sky_rows, dtype=np.float32)[:, None, None]
        sky_col = top + (bottom - top) * ramp
        sky = np.ascontiguousarray(np.broadcast_to(np.clip(sky_col, 0, 255).astype(np.uint8),
                                                   (self.sky_rows, self.width, 3)))
        scene = _Scene(texture, sky, 1 if index % 2 == 0 else -1)
        self._scene_cache = (index, scene)
        return scene

    def render(self, n: int) -> np.ndarray:
        """The RGB picture (uint8 HxWx3) of frame n."""
        t = n / self.fps
        index = scene_index(t)
        scene = self._scene(index)
        dt = t - scene_start(index)
        w, h, k, sky_rows = self.width, self.height, self.k, self.sky_rows
        frame = np.empty((h, w, 3), dtype=np.uint8)

        pan = int(PAN_SPEED * k * dt)
        x0 = pan if scene.direction > 0 else self.pan_range - 1 - pan
        y0 = int(8 + 7 * math.sin(2 * math.pi * t / 5.0))
        frame[sky_rows:] = scene.texture[y0:y0 + h - sky_rows, x0:x0 + w]
        frame[:sky_rows] = scene.sky

        gr = self.glow.shape[0] // 2
        gx = int(w * (0.15 + 0.7 * ((t / 40.0) % 1.0))) - gr
        gy = int(sky_rows * 0.45) - gr
        ys, ye = max(gy, 0), min(gy + 2 * gr + 1, sky_rows)
        xs, xe = max(gx, 0), min(gx + 2 * gr + 1, w)
        if ys < ye and xs < xe:
            region = frame[ys:ye, xs:xe]
            lit = region + self.glow[ys - gy:ye - gy, xs - gx:xe - gx, None]
            region[...] = np.minimum(lit, 255)

        bar = self.bar.rotate(t * 57.0, resample=Image.Resampling.BICUBIC, expand=True)
        arr = np.asarray(bar)
        bx, by = int(w * 0.72) - arr.shape[1] // 2, int(h * 0.62) - arr.shape[0] // 2
        _blend(frame, arr[:, :, :3], arr[:, :, 3].astype(np.uint16), bx, by)

        paths = ((0.30, 0.55, 0.22, 0.20, 0.35, 0.50), (0.55, 0.60, 0.35, 0.25, 3.1, 4.3),
                 (0.45, 0.45, 0.30, 0.25, 0.22, 0.31), (0.70, 0.40, 0.20, 0.30, 2.7, 3.6),
                 (0.20, 0.75, 0.15, 0.12, 0.6, 0.9))
        for i, ((rgb, alpha), (cx, cy, ax, ay, wx, wy)) in enumerate(zip(self.spheres, paths)):
            sx = int(w * (cx + ax * math.sin(wx * t + i)) - alpha.shape[1] / 2)
            sy = int(h * (cy + ay * math.sin(wy * t + 2 * i)) - alpha.shape[0] / 2)
            _blend(frame, rgb, alpha, sx, sy)

        seconds, sub = divmod(n, self.fps)
        label = f"TC {seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}:{sub:02d}  F {n:05d}"
        box_w, box_h = int(self.font.getlength(label)) + int(28 * k), int(64 * k)
        box = Image.new("RGB", (box_w, box_h), (0, 0, 0))
        ImageDraw.Draw(box).text((int(14 * k), (box_h - self.font.size) // 2 - 2), label,
                                 font=self.font, fill=(255, 255, 255))
        bx, by = int(40 * k), int(40 * k)
        frame[by:by + box_h, bx:bx + box_w] = np.asarray(box)[:h - by, :w - bx]

        offset = int(240 * k * t) % self.ticker_period
        th = self.ticker.shape[0]
        frame[h - th - int(30 * k):h - int(30 * k)] = self.ticker[:, offset:offset + w]
        return frame
