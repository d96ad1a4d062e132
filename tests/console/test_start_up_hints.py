"""What `manage.py serve` tells a new operator, and the addresses it puts in payloads (issue 15)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from console.env import local_base_url
from console.process.management.commands.serve import changepassword_command


def _settings_value(name: str, **env: str) -> str:
    environ = {k: v for k, v in os.environ.items() if k not in ("PUBLIC_BASE_URL", "LOOPDECK_PORT", "LOOPDECK_HOST")}
    environ.update(env, DJANGO_SETTINGS_MODULE="console.settings")
    out = subprocess.run([sys.executable, "-c", f"from django.conf import settings; print(settings.{name})"],
                         cwd=settings.BASE_DIR, env=environ, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_payload_urls_follow_the_port_the_console_runs_on():
    assert _settings_value("PUBLIC_BASE_URL", LOOPDECK_PORT="8101") == "http://127.0.0.1:8101"
    assert _settings_value("PUBLIC_BASE_URL", LOOPDECK_PORT="8101", LOOPDECK_HOST="0.0.0.0") == "http://127.0.0.1:8101"
    assert _settings_value("PUBLIC_BASE_URL", LOOPDECK_PORT="8101",
                           PUBLIC_BASE_URL="https://gifs.example.com/") == "https://gifs.example.com"


def test_a_port_given_on_the_command_line_reaches_the_children():
    assert local_base_url("127.0.0.1", 8123) == "http://127.0.0.1:8123"
    assert local_base_url("::1", 8123) == "http://[::1]:8123"


def test_the_readme_names_the_port_setting():
    readme = (Path(settings.BASE_DIR) / "README.md").read_text()
    assert "LOOPDECK_PORT" in readme


def test_the_printed_changepassword_command_runs_as_printed():
    command = changepassword_command("admin")
    python, rest = command.split(" ", 1)
    assert rest == "manage.py changepassword admin"
    assert python != "python"
    # Run from the project folder exactly as printed (help only: changepassword itself prompts).
    out = subprocess.run([python, "manage.py", "help", "changepassword"], cwd=settings.BASE_DIR,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
