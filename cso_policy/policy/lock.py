"""Published policy versions are immutable: ``LOCK`` holds each version's content hash."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..errors import ConfigError
from ..inputs.toml import read_toml

LOCK_NAME = "LOCK"


def content_hash(folder: Path) -> str:
    """sha256 over every file of a version folder (relative path and content)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).hexdigest().encode() + b"\n")
    return "sha256:" + digest.hexdigest()


def read_lock(root: Path) -> dict[str, str]:
    """The ``[versions]`` of *root*'s ``LOCK`` (empty without one); every problem of the file is
    a ConfigError naming it (not UTF-8, nested too deeply, ``[versions]`` not a table of strings)."""
    lock = root / LOCK_NAME
    try:
        if not lock.is_file():
            return {}
    except OSError as exc:
        raise ConfigError(f"{lock}: cannot read ({exc.strerror or exc})") from None
    versions = read_toml(lock).get("versions", {})
    if not isinstance(versions, dict):
        raise ConfigError(f"{lock} $.versions: expected a table of version hashes")
    for ref, value in versions.items():
        if not isinstance(value, str):
            raise ConfigError(f"{lock} $.versions.\"{ref}\": expected a string (sha256:...), got {type(value).__name__}")
    return dict(versions)


def write_lock(root: Path) -> tuple[list[str], list[str]]:
    """Lock every version under *root*: returns (newly locked, refused because changed)."""
    locked = read_lock(root)
    added, refused = [], []
    for manifest in sorted(root.glob("*/*/manifest.toml")):
        folder = manifest.parent
        ref = f"{folder.parent.name}@{folder.name}"
        current = content_hash(folder)
        if ref not in locked:
            locked[ref] = current
            added.append(ref)
        elif locked[ref] != current:
            refused.append(ref)
    lines = ["# Content hashes of published policy versions: a locked version never changes.",
             "# Written by `cso-policy policies lock`; new terms go in a new version folder.", "", "[versions]"]
    lines += [f'"{ref}" = "{h}"' for ref, h in sorted(locked.items())]
    (root / LOCK_NAME).write_text("\n".join(lines) + "\n")
    return added, refused
