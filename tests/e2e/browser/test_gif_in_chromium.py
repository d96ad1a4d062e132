"""GIFs as Chromium shows them: every frame decoded by the browser's own GIF decoder (WebCodecs'
ImageDecoder): pixels that keep what is shown, and transparency that starts or ends midway."""

from __future__ import annotations

import base64
import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import av
import pytest

from media_jobs.encode import RenderSpec, render
from tests.clips import alpha_at, encode_pictures, grainy_picture, has_encoder, make_alpha_clip

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not has_encoder("libvpx-vp9"), reason="no libvpx-vp9 in this PyAV build")]

# Every frame as Chromium composes it: its share of pixels at alpha >= 128 and its sums of R, G, B.
FRAMES = """
async (b64) => {
  const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
  const decoder = new ImageDecoder({data: bytes, type: 'image/gif'});
  await decoder.tracks.ready;
  const frames = [];
  for (let i = 0; i < decoder.tracks.selectedTrack.frameCount; i++) {
    const {image} = await decoder.decode({frameIndex: i});
    const canvas = new OffscreenCanvas(image.displayWidth, image.displayHeight);
    const context = canvas.getContext('2d');
    context.drawImage(image, 0, 0);
    const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
    let opaque = 0;
    const sums = [0, 0, 0];
    for (let j = 0; j < pixels.length; j += 4) {
      sums[0] += pixels[j]; sums[1] += pixels[j + 1]; sums[2] += pixels[j + 2];
      opaque += pixels[j + 3] >= 128;
    }
    frames.push({opaque: opaque / (pixels.length / 4), sums});
    image.close();
  }
  return frames;
}
"""


@pytest.fixture(scope="module")
def secure_origin(tmp_path_factory) -> Iterator[str]:
    """An empty page on 127.0.0.1: ImageDecoder exists only in a secure context."""
    root = tmp_path_factory.mktemp("origin")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def _chromium_frames(browser, origin: str, path: Path) -> list[dict]:
    page = browser.new_page()
    try:
        page.goto(origin)
        return page.evaluate(FRAMES, base64.b64encode(path.read_bytes()).decode())
    finally:
        page.close()


@pytest.mark.parametrize("opaque", [range(6), range(10, 20)], ids=["turns-transparent", "turns-opaque"])
def test_chromium_shows_transparency_that_starts_or_ends_midway(browser, secure_origin, tmp_path, opaque):
    src = make_alpha_clip(tmp_path / "turning.webm", opaque_frames=opaque)
    out = tmp_path / "out.gif"
    render(src, RenderSpec(format="gif", fps=10, duration=2.0), out)
    shares = [f["opaque"] for f in _chromium_frames(browser, secure_origin, out)]
    assert len(shares) == 20
    for index, share in enumerate(shares):
        wanted = 1.0 if index in opaque else float((alpha_at(96, 64, index) >= 128).mean())
        assert abs(share - wanted) < 0.02, f"frame {index}: {share:.3f} opaque, {wanted:.3f} wanted ({shares})"


def test_chromium_shows_the_frames_ffmpeg_decodes_where_pixels_keep_what_is_shown(browser, secure_origin, tmp_path):
    # Kept pixels are marked transparent over frames left in place: a browser has to compose them
    # exactly as FFmpeg's decoder does (and as the benchmark's scores assume).
    src = encode_pictures(tmp_path / "grainy.mp4", (grainy_picture(k) for k in range(20)), 10, crf=8, gop=40)
    out = tmp_path / "out.gif"
    render(src, RenderSpec(format="gif", width=160, fps=10, duration=2.0), out)
    with av.open(str(out)) as container:
        ffmpeg = [f.to_ndarray(format="rgb24").reshape(-1, 3).sum(axis=0).tolist() for f in container.decode(video=0)]
    chromium = [f["sums"] for f in _chromium_frames(browser, secure_origin, out)]
    assert len(chromium) == len(ffmpeg) == 20
    assert chromium == ffmpeg
