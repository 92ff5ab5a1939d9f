"""Reading TOML input files: one line of error naming the file, never a traceback."""

from __future__ import annotations

import tomllib
from pathlib import Path

from ..errors import ConfigError


def read_toml(path: Path) -> dict:
    """The parsed TOML of *path*; a ConfigError names the file when it is unreadable or invalid."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML ({exc})") from None
