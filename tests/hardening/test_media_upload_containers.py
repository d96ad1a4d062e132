"""Every container a user may upload, through the product: the API upload, then the prepare job
in a real worker process. A usable file becomes READY with a cover and renders; an unusable one is
refused at upload with its named code, never a video that fails later. Besides the real-world
corpus: MPEG-TS and M2TS clips whose timestamps start late, wrap round the 33-bit clock, or jump,
and a VP9 WebM with alpha, whose GIF keeps its transparency.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from console.api.models import ApiKey
from media_jobs.encode import ErrorCode
from media_jobs.models import AnimatedImageTemplate, Task, Video, Workflow, WorkflowStep
from tests.api.conftest import ApiClient
from tests.clips import TS_WRAP_SECONDS, has_encoder, make_alpha_clip, make_ts_clip
from tests.e2e.conftest import process_env, start_process, wait_for  # noqa: F401 - fixtures

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

MEDIA = Path("/work/shared/media")
SHARED = sorted(p for p in MEDIA.glob("*") if p.name != "MANIFEST.md") if MEDIA.is_dir() else []
# What upload refuses, and with which code.
REFUSED = {"audio_only_aac_coremedia.m4a": ErrorCode.NO_VIDEO_STREAM}
# From the upload's answer to READY with a cover and a finished render (measured 1-4 s a file).
READY_BOUND_SECONDS = 30

ALPHA_CLIP = "VP9 with alpha.webm"
TS_CLIPS = {
    "starts at 600 s.ts": dict(start=600),
    "starts at 10 h, M2TS with audio.m2ts": dict(start=36_000, m2ts=True, audio=True),
    "wraps the 33-bit clock after 1 s.ts": dict(start=float(TS_WRAP_SECONDS) - 1.0, audio=True),
    "jumps 30 s ahead at 1 s.ts": dict(start=5, jump_at=1.0, jump_by=30),
    "jumps 40 s back at 1 s.ts": dict(start=50, jump_at=1.0, jump_by=-40),
    "wraps back to 0, M2TS.m2ts": dict(start=float(TS_WRAP_SECONDS) - 0.5, m2ts=True),
}


@pytest.fixture
def ts_clips(tmp_path) -> list[Path]:
    folder = tmp_path / "ts"
    folder.mkdir()
    clips = [make_ts_clip(folder / name, seconds=2.0, **kwargs) for name, kwargs in TS_CLIPS.items()]
    if has_encoder("libvpx-vp9"):
        clips.append(make_alpha_clip(folder / ALPHA_CLIP))
    return clips


@pytest.fixture
def workflow(db) -> Workflow:
    # The first second at 5 fps, 96 wide: a render of every file stays cheap.
    template = AnimatedImageTemplate.objects.create(name="containers", format="gif", width=96, fps=5)
    flow = Workflow.objects.create(name="containers")
    WorkflowStep.objects.create(workflow=flow, position=0, template=template, start_time_offset=0,
                                end_time_offset=1.0)
    return flow


def test_every_container_becomes_ready_and_renders_or_is_refused_at_upload(ts_clips, workflow, start_process):  # noqa: F811
    api = ApiClient(ApiKey.issue("containers")[1])
    files = [*SHARED, *ts_clips]
    assert len(files) >= 6 + (20 if MEDIA.is_dir() else 0)
    start_process("worker")
    accepted: dict[str, tuple[Video, float]] = {}
    for path in files:
        with path.open("rb") as handle:
            response = api.upload("/api/v1/videos", {"file": handle, "workflow_id": str(workflow.public_id)})
        if path.name in REFUSED:
            assert (response.status_code, response.json()["code"]) == (400, REFUSED[path.name]), path.name
            continue
        assert response.status_code == 201, (path.name, response.content[:300])
        accepted[path.name] = (Video.objects.get(public_id=response.json()["id"]), time.monotonic())

    timings = {}
    for name, (video, since) in accepted.items():
        def done(v=video) -> bool:
            v.refresh_from_db()
            return v.status == Video.Status.FAILED or Task.objects.filter(video=v, status=Task.Status.FINISH).exists()

        wait_for(done, READY_BOUND_SECONDS, f"{name} to be prepared and rendered")
        timings[name] = time.monotonic() - since
        assert (video.status, video.error_code) == (Video.Status.READY, ""), (name, video.error_message)
        assert video.cover_image, f"{name} has no cover"
        task = Task.objects.get(video=video)
        output = task.outputs.get()
        assert task.result == Task.Result.SUCCESS, (name, output.error_code, output.error_message)
        assert output.frames >= 1
        if name == ALPHA_CLIP:
            with Image.open(output.file.path) as gif:
                alpha = np.asarray(gif.convert("RGBA"))[..., 3]
            assert 0.4 < (alpha < 128).mean() < 0.9, f"the GIF of {name} lost its transparency"
    print("\n" + "\n".join(f"{seconds:5.2f} s  {name}" for name, seconds in timings.items()))
