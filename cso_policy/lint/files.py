"""Reading TOML files for lint and placing problems at the line and column of their key."""

from __future__ import annotations

import os
import re
import stat
import tomllib
from collections.abc import Iterable
from pathlib import Path

from ..core.convert import StructureError, structure
from ..core.model import Level
from ..errors import ConfigError
from ..inputs.toml import decode_utf8
from .catalogue import LintFinding, LintProblem


_PATH_PART = re.compile(r"\.([A-Za-z0-9_-]+)(?:\[(\d+)\])?")


def locate(text: str, key_path: str) -> tuple[int, int] | None:
    """Best-effort line and column of a ``$.a[1].b`` key path in TOML text (tomllib keeps no
    positions): ``[a]``/``[[a]]`` and dotted ``[a.b]`` headers, ``key =`` lines, inline tables."""
    lines = text.splitlines()
    start, end = 0, len(lines)
    found = None
    table: list[str] = []  # the dotted name of the table the search is in
    for name, index in _PATH_PART.findall(key_path or ""):
        dotted = ".".join([*table, name])
        header = re.compile(rf"^\s*\[\[?\s*{re.escape(dotted)}\s*\]\]?\s*(#.*)?$")
        hits = [i for i in range(len(lines)) if header.match(lines[i])]
        if hits:
            n = int(index) if index else 0
            if n >= len(hits):
                return found
            head = hits[n]
            start = head + 1
            end = next((i for i in range(start, len(lines)) if lines[i].lstrip().startswith("[")), len(lines))
            found, table = (head + 1, 1), dotted.split(".")
            continue
        key = re.compile(rf"^\s*{re.escape(name)}\s*=|[{{,]\s*{re.escape(name)}\s*=")
        hit = next((i for i in range(start, end) if key.search(lines[i])), None)
        if hit is None:
            if any(line.lstrip().startswith(f"[{dotted}.") for line in lines):
                table = dotted.split(".")  # an implicit table: only its sub-tables have headers
                continue
            return found
        match = key.search(lines[hit])
        col = match.start() + 1
        found = (hit + 1, col if lines[hit][col - 1] not in "{," else col + 2)
        start = hit
    return found


class Collector:
    """The findings of one file: problems are placed at the line of their key path."""

    def __init__(self, file: Path, levels: dict[str, Level], text: str = ""):
        self.file, self.levels, self.text = str(file), levels, text
        self.found: list[LintFinding] = []

    def add(self, rule: str, message: str, path: str | None = None) -> None:
        where = locate(self.text, path) if path else None
        line, column = where if where else (None, None)
        self.found.append(LintFinding(rule=rule, level=self.levels[rule], file=self.file, message=message,
                                      path=path, line=line, column=column))

    def extend(self, problems: Iterable[LintProblem]) -> None:
        for p in problems:
            self.add(p.rule, p.message, p.path)

    def read(self, path: Path, rule: str) -> dict | None:
        """The TOML of *path* (kept for locating keys); a file that is not TOML (a syntax error,
        not UTF-8, nested too deeply) is a finding of *rule*, as ``read_toml`` words it."""
        raw = read_file(path)
        try:
            self.text = decode_utf8(raw, path, "TOML file")
            return tomllib.loads(self.text)
        except ConfigError as exc:  # not UTF-8: the message starts with the file name
            self._invalid(rule, str(exc).removeprefix(f"{path}: "))
        except tomllib.TOMLDecodeError as exc:
            match = re.search(r"at line (\d+), column (\d+)", str(exc))
            self._invalid(rule, f"invalid TOML: {exc}", int(match[1]) if match else None,
                          int(match[2]) if match else None)
        except RecursionError:
            self._invalid(rule, "invalid TOML (nested too deeply)")
        except (ValueError, OverflowError) as exc:  # a value tomllib cannot build
            self._invalid(rule, f"invalid TOML ({exc})")
        return None

    def _invalid(self, rule: str, message: str, line: int | None = None, column: int | None = None) -> None:
        self.found.append(LintFinding(rule=rule, level=self.levels[rule], file=self.file, message=message,
                                      line=line, column=column))


def read_file(path: Path) -> bytes:
    """The bytes of *path*; a ConfigError when it is not a regular file (a FIFO would block) or
    cannot be read."""
    try:
        mode = os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            raise ConfigError(f"{path}: cannot read (is a folder)")
        if not stat.S_ISREG(mode):
            raise ConfigError(f"{path}: cannot read (not a regular file)")
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None


def key_of(field_path: str, msg: str) -> str:
    """Point an unknown-field problem at the first unknown key, not at its table."""
    prefix = "unknown field(s): "
    if msg.startswith(prefix):
        return f"{field_path}.{msg[len(prefix):].split(',')[0].strip()}"
    return field_path


def structured(tables: dict, cls, rule: str, *, at_key: bool = False):
    """``(value, [])`` with *tables* structured as *cls*, or ``(None, problems)`` of *rule*, one per bad field."""
    try:
        return structure(tables, cls), []
    except StructureError as exc:
        return None, schema_problems(exc.problems, rule, at_key=at_key)


def schema_problems(problems: Iterable[tuple[str, str]], rule: str, *, at_key: bool = False) -> list[LintProblem]:
    """cattrs structuring problems as lint problems of *rule*, each at its field path (with
    *at_key*, an unknown field at its own key)."""
    return [LintProblem(rule=rule, message=f"{path}: {msg}", path=key_of(path, msg) if at_key else path)
            for path, msg in problems]


# ------------------------------------------------------------------ contracts
