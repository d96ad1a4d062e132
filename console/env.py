"""Typed readers for settings from the environment. A bad value stops start-up with its name.

Every reader also accepts `NAME_FILE`: the path of a file holding the value, for secrets mounted
as files (Docker/Kubernetes secrets).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


class SettingError(ValueError):
    """A setting has a value we cannot use."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str) -> str | None:
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        try:
            return Path(file_path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SettingError(f"{name}_FILE={file_path!r} cannot be read: {exc}") from exc
    return os.environ.get(name)


def env_str(name: str, default: str = "") -> str:
    value = _raw(name)
    return default if value is None else value


def env_bool(name: str, default: bool = False) -> bool:
    value = _raw(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise SettingError(f"{name}={value!r} is not a boolean (use true/false, 1/0, yes/no, on/off)")


def env_int(name: str, default: int, minimum: int | None = None, maximum: int | None = None) -> int:
    value = _raw(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value.strip())
    except ValueError as exc:
        raise SettingError(f"{name}={value!r} is not a whole number") from exc
    if minimum is not None and number < minimum:
        raise SettingError(f"{name}={number} is below the minimum {minimum}")
    if maximum is not None and number > maximum:
        raise SettingError(f"{name}={number} is above the maximum {maximum}")
    return number


def env_float(name: str, default: float, minimum: float | None = None) -> float:
    value = _raw(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = float(value.strip())
    except ValueError as exc:
        raise SettingError(f"{name}={value!r} is not a number") from exc
    if minimum is not None and number < minimum:
        raise SettingError(f"{name}={number} is below the minimum {minimum}")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_path(name: str, default: Path) -> Path:
    value = _raw(name)
    return Path(value).expanduser().resolve() if value else default


def persistent_secret(name: str, path: Path) -> str:
    """The secret from the environment, else one generated on first run and kept in `path`."""
    value = _raw(name)
    if value:
        return value
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    generated = secrets.token_urlsafe(50)
    # O_EXCL: two processes starting at once must not end up with different keys.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(generated)
    return generated


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = _raw(name)
    if value is None or value.strip() == "":
        return default
    lowered = value.strip().lower()
    if lowered not in choices:
        raise SettingError(f"{name}={value!r} is not one of {', '.join(choices)}")
    return lowered


def local_base_url(host: str | None, port: int | str | None) -> str:
    """The console's own address as `manage.py serve` binds it (LOOPDECK_HOST / LOOPDECK_PORT),
    the default for PUBLIC_BASE_URL: payload URLs then point where the console really runs.
    A wildcard bind address is reached through loopback."""
    host = (host or "127.0.0.1").strip()
    if host in ("0.0.0.0", "::", "[::]", ""):
        host = "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port or 8000}"
