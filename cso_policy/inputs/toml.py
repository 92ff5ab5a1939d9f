"""Reading TOML input files: one line of error naming the file, never a traceback.

Every TOML input (contracts, ``cso-policy.toml``, policy files, waivers) must be UTF-8 (a
UTF-8 byte-order mark is allowed and skipped). A UTF-16/UTF-32 file is refused as such; any
other byte that is not UTF-8 is reported with its byte offset. A document nested too deeply
for the parser (hundreds of levels of arrays or inline tables) is refused too.
"""

from __future__ import annotations

import codecs
import tomllib
from pathlib import Path

from ..errors import ConfigError

_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def decode_utf8(raw: bytes, path: Path, what: str = "file") -> str:
    """*raw* as UTF-8 text (a UTF-8 BOM skipped); a ConfigError names *path* otherwise."""
    for bom, name in _WIDE_BOMS:
        if raw.startswith(bom):
            raise ConfigError(f"{path}: {what} is {name} (it starts with a {name} byte-order mark); it must be UTF-8")
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8):]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: {what} is not UTF-8 (byte 0x{raw[exc.start]:02x} at byte offset {exc.start})"
        ) from None


def read_utf8(path: Path, what: str = "file") -> str:
    """The text of *path* (see :func:`decode_utf8`); a ConfigError names the file when it cannot
    be read."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return decode_utf8(raw, path, what)


def read_toml(path: Path) -> dict:
    """The parsed TOML of *path*; a ConfigError names the file when it is unreadable or invalid."""
    text = read_utf8(path, "TOML file")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML ({exc})") from None
    except RecursionError:
        raise ConfigError(f"{path}: invalid TOML (nested too deeply)") from None
    except (ValueError, OverflowError) as exc:  # a value tomllib cannot build
        raise ConfigError(f"{path}: invalid TOML ({exc})") from None
