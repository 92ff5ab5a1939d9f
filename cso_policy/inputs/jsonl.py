"""The built-in record source: JSON Lines, one record object a line.

A default plugin: it registers exactly like a third-party one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson

from ..errors import ConfigError
from ..markers import hookimpl
from .sources import BadLine, RawRecord, RecordSource


def read_jsonl(path: Path, options: dict | None = None) -> Iterator[RawRecord]:
    """One JSON object a line; blank lines are skipped, a broken line is a BadLine."""
    if path is None:
        raise ConfigError("the jsonl source reads files: give the [[records]] entry a path")
    name = str(path)
    loads = orjson.loads
    decode_error = orjson.JSONDecodeError
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    with fh:
        for number, raw in enumerate(fh, start=1):
            try:
                obj = loads(raw)
            except decode_error as exc:
                if not raw.strip():
                    continue
                yield name, number, BadLine(f"invalid JSON ({exc})")
                continue
            yield name, number, obj


def jsonl_lines(path: Path, options: dict | None = None) -> Iterator[tuple[str, int, bytes]]:
    """Every line, undecoded (the core decodes them: see ``RecordSource.lines``)."""
    if path is None:
        raise ConfigError("the jsonl source reads files: give the [[records]] entry a path")
    name = str(path)
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    with fh:
        for number, raw in enumerate(fh, start=1):
            yield name, number, raw


JSONL = RecordSource(
    name="jsonl",
    read=read_jsonl,
    lines=jsonl_lines,
    suffixes=(".jsonl", ".ndjson"),
    description="JSON Lines: one record object a line",
)


@hookimpl
def cso_policy_record_sources():
    return [JSONL]
