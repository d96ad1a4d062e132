"""`manage.py animate`: the worker's code path from the shell."""

import json

import pytest
from django.core.management import CommandError, call_command
from PIL import Image

pytestmark = pytest.mark.django_db


def test_it_renders_a_file_with_a_template_and_an_override(small_clip, tmp_path, capsys):
    out = tmp_path / "out.gif"
    call_command("animate", str(small_clip), "--template", "20002", "--start", "0.5", "--end", "1.5", "-o", str(out))
    result = json.loads(capsys.readouterr().out)
    with Image.open(out) as im:
        assert im.n_frames == result["frames"] == 10
        assert im.size == (320, 240)
    assert result["start_offset"] == pytest.approx(0.5) and result["end_offset"] == pytest.approx(1.5)


def test_it_reports_a_range_outside_the_video_by_name(small_clip, tmp_path):
    out = tmp_path / "out.gif"
    with pytest.raises(CommandError, match="InvalidTimeRange"):
        call_command("animate", str(small_clip), "--template", "20002", "--start", "10", "-o", str(out))
    assert not out.exists()


def test_it_names_an_unknown_template(small_clip, tmp_path):
    with pytest.raises(CommandError, match="ResourceNotFound"):
        call_command("animate", str(small_clip), "--template", "99", "-o", str(tmp_path / "x.gif"))
