"""`python -m media_jobs.encode`: JSON on stdout, exit 2 and a JSON error on stderr."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.encode.animation import open_animation

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "media_jobs.encode", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT, env=env)


def error_of(proc: subprocess.CompletedProcess) -> dict:
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout.strip() == ""
    error = json.loads(proc.stderr.strip().splitlines()[-1])
    assert set(error) >= {"code", "message"} and error["message"]
    return error


def test_probe_prints_the_media_info_as_json(make_clip):
    proc = run_cli("probe", make_clip(seconds=2.0, audio=True, rotation=90))
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert (info["width"], info["height"], info["rotate"]) == (240, 320, 90)
    assert info["duration"] == pytest.approx(2.0, abs=0.05)
    assert info["video_streams"][0]["codec"] == "h264"
    assert info["audio_streams"][0]["codec"] == "aac"


def test_render_writes_the_file_and_prints_the_result(make_clip, tmp_path):
    out = tmp_path / "out.webp"
    proc = run_cli("render", make_clip(seconds=3.0), out, "--format", "webp", "--width", "160", "--fps", "10",
                   "--start", "1", "--duration", "1.5", "--loop", "2")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    anim = open_animation(out)
    assert result["container"] == "webp"
    assert (result["width"], result["height"]) == (anim.width, anim.height) == (160, 120)
    assert result["frames"] == len(anim.frames) == 15
    assert result["start_offset"] == pytest.approx(1.0, abs=0.02)
    assert result["end_offset"] == pytest.approx(2.5, abs=0.02)
    assert result["size"] == out.stat().st_size
    assert anim.loop == 2


def test_render_takes_boolean_and_choice_flags(make_clip, tmp_path):
    out = tmp_path / "out.gif"
    proc = run_cli("render", make_clip(seconds=1.0), out, "--width", "160", "--height", "160", "--scale-mode",
                   "fill", "--no-resolution-adaptive", "--dither", "none", "--colors", "32")
    assert proc.returncode == 0, proc.stderr
    assert (open_animation(out).width, open_animation(out).height) == (160, 160)


def test_a_bad_file_exits_2_with_a_named_error(text_file, tmp_path):
    assert error_of(run_cli("probe", text_file))["code"] == "InvalidVideoFormat"
    out = tmp_path / "out.gif"
    assert error_of(run_cli("render", text_file, out))["code"] == "InvalidVideoFormat"
    assert not out.exists()


def test_an_empty_file_exits_2_with_empty_file(empty_file):
    assert error_of(run_cli("probe", empty_file))["code"] == "EmptyFile"


def test_a_range_past_the_end_exits_2_with_invalid_time_range(make_clip, tmp_path):
    error = error_of(run_cli("render", make_clip(seconds=1.0), tmp_path / "out.gif", "--start", "5"))
    assert error["code"] == "InvalidTimeRange"
    assert error.get("field") == "start"


@pytest.mark.parametrize("args", [("--fps", "0"), ("--fps", "ten"), ("--format", "png"), ("--bogus", "1")])
def test_bad_flags_exit_2_with_invalid_parameter(make_clip, tmp_path, args):
    error = error_of(run_cli("render", make_clip(seconds=1.0), tmp_path / "out.gif", *args))
    assert error["code"] == "InvalidParameter"
    assert list(tmp_path.iterdir()) == []


def test_a_webp_render_does_not_load_numpy(make_clip, tmp_path):
    # numpy is the GIF writer's; loading it would add about 50 ms to every one-shot WebP render.
    code = "\n".join([
        "import runpy, sys",
        "try:",
        "    runpy.run_module('media_jobs.encode', run_name='__main__')",
        "except SystemExit:",
        "    pass",
        "print('numpy' in sys.modules, file=sys.stderr)",
    ])
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", code, "render", str(make_clip(seconds=1.0)),
                           str(tmp_path / "out.webp"), "--format", "webp", "--width", "96"],
                          capture_output=True, text=True, timeout=120, cwd=ROOT, env=env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["frames"] >= 1
    assert proc.stderr.strip().splitlines()[-1] == "False"
