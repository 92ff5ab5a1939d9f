"""Finding the inputs: the workspace config, contract files and record files.

``cso-policy.toml`` is checked key by key: a value of the wrong type is a ConfigError naming
the file and its key path (``$.policies[0]: expected a path``), never a traceback later on.

``as_of`` (chosen behaviour): a TOML offset date-time (``2026-12-31T00:00:00Z``), a TOML date
(midnight UTC, as ``--as-of 2026-12-31`` reads it) or a string in the form ``--as-of`` takes.
Anything else (``as_of = "garbage"``, a date-time without a UTC offset) is a ConfigError naming
``$.as_of``. The valid value is kept as :attr:`Workspace.as_of`, the default of ``--as-of``
for commands that read the workspace (``--as-of`` on the command line wins).

Paths: see :func:`expand` (globs and folders never reach outside the folder they start in;
a file named explicitly, ``../northwind/contracts/northwind.toml`` included, is read as named).
"""

from __future__ import annotations

import errno
import fnmatch
import glob
import os
import stat
from datetime import date, datetime, time, timezone
from pathlib import Path

from attrs import evolve, frozen

from ..core.convert import StructureError, out_of_range, structure_contract
from ..core.model import Contract
from ..errors import ConfigError
from .toml import read_toml

CONFIG_NAME = "cso-policy.toml"
_CONFIG_KEYS = {"contracts", "records", "policies", "plugins", "waivers", "as_of"}


@frozen(kw_only=True)
class RecordInput:
    path: Path | None  # None: a source that reads no file (a live API)
    source: str | None = None  # None: chosen by the file's suffix
    options: dict = {}
    where: str = ""  # where it was given, for messages: "cso-policy.toml $.records[2]"


@frozen(kw_only=True)
class Workspace:
    root: Path
    contracts: tuple[str, ...] = ()
    records: tuple[RecordInput, ...] = ()
    policies: tuple[Path, ...] = ()
    waivers: Path | None = None
    plugins: tuple[str, ...] = ()  # local plugins: modules or .py files (relative to root)
    plugin_options: dict = {}  # [plugins.<name>] tables
    as_of: datetime | None = None  # the workspace's default --as-of


DEFAULT_WAIVERS = "waivers.toml"


def _default_waivers(root: Path) -> Path | None:
    """The workspace's ``waivers.toml``, read without ``waivers =`` naming it, when it is there."""
    path = root / DEFAULT_WAIVERS
    return path if path.is_file() else None


def load_workspace(root: Path) -> Workspace:
    """Read ``cso-policy.toml`` in *root*; paths in it are relative to *root*."""
    config_path = root / CONFIG_NAME
    if not root.is_dir():
        raise ConfigError(f"{root}: workspace is not a directory")
    if not config_path.is_file():
        raise ConfigError(f"{root}: no {CONFIG_NAME} (or give --contracts and --records)")
    data = read_toml(config_path)
    unknown = set(data) - _CONFIG_KEYS
    if unknown:
        raise ConfigError(f"{config_path}: unknown key(s) {', '.join(sorted(unknown))} (known: {', '.join(sorted(_CONFIG_KEYS))})")
    records = []
    for index, entry in enumerate(_list(data, "records", config_path, check=False)):
        where = f"{config_path} $.records[{index}]"
        if isinstance(entry, str) and entry:
            records.append(RecordInput(path=Path(entry), where=where))
        elif isinstance(entry, dict) and (isinstance(entry.get("path"), str) or isinstance(entry.get("source"), str)):
            for key in ("path", "source"):
                if key in entry and not isinstance(entry[key], str):
                    raise ConfigError(f"{where}.{key}: expected a string, got {_kind(entry[key])}")
            extra = {k: v for k, v in entry.items() if k not in ("path", "source")}
            path = Path(entry["path"]) if isinstance(entry.get("path"), str) else None
            records.append(RecordInput(path=path, source=entry.get("source"), options=extra, where=where))
        else:
            raise ConfigError(f"{config_path} $.records[{index}]: expected a path, or a table with path and/or source")
    plugins, options = _plugins(data.get("plugins", []), config_path)
    waivers = data.get("waivers")
    if waivers is not None and not isinstance(waivers, str):
        raise ConfigError(f"{config_path} $.waivers: expected the path of a waivers file, got {_kind(waivers)}")
    return Workspace(
        root=root,
        as_of=_as_of(data.get("as_of"), config_path),
        waivers=root / waivers if waivers else _default_waivers(root),
        contracts=tuple(_list(data, "contracts", config_path)),
        records=tuple(records),
        policies=tuple(root / p for p in _list(data, "policies", config_path)),
        plugins=plugins,
        plugin_options=options,
    )


def _plugins(value, where: Path) -> tuple[tuple[str, ...], dict]:
    """``plugins = ["acme.py"]``, or a ``[plugins]`` table: ``load = [...]`` plus one
    ``[plugins.<name>]`` options table per plugin (TOML cannot hold both as one key)."""
    if isinstance(value, list):
        return tuple(_strings(value, "plugins", where, "a module or .py file")), {}
    if not isinstance(value, dict):
        raise ConfigError(f"{where} $.plugins: expected a list of plugins or a table")
    load = value.get("load", [])
    if not isinstance(load, list):
        raise ConfigError(f"{where} $.plugins.load: expected a list of modules or .py files")
    options = {k: v for k, v in value.items() if k != "load"}
    for name, table in options.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{where} $.plugins.{name}: expected a table of options")
    return tuple(_strings(load, "plugins.load", where, "a module or .py file")), options


def _kind(value) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return f"a number ({value!r})"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, (date, datetime, time)):
        return f"a date/time ({value.isoformat()})"
    return type(value).__name__


def _strings(values: list, key: str, where: Path, what: str = "a path") -> list[str]:
    for index, value in enumerate(values):
        if not isinstance(value, str) or not value:
            got = "an empty string" if value == "" else _kind(value)
            raise ConfigError(f"{where} $.{key}[{index}]: expected {what}, got {got}")
    return values


def _list(data: dict, key: str, where: Path, check: bool = True) -> list:
    value = data.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise ConfigError(f"{where} $.{key}: expected a list of paths, got {_kind(value)}")
    return _strings(value, key, where) if check else value


def _as_of(value, where: Path) -> datetime | None:
    """The workspace's ``as_of`` (see the module docstring); None when it is not there."""
    if value is None:
        return None
    problem = f"{where} $.as_of: expected an ISO 8601 date or a timestamp with a UTC offset"
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ConfigError(f"{problem}, got {value.isoformat()} (no UTC offset: add Z or +hh:mm)")
        return _in_range(value, value, where)
    if isinstance(value, date):
        return _in_range(datetime.combine(value, time(0), tzinfo=timezone.utc), value, where)
    if not isinstance(value, str):
        raise ConfigError(f"{problem}, got {_kind(value)}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{problem}, got {value!r}") from None
    if parsed.tzinfo is None:
        if "T" in value or " " in value:
            raise ConfigError(f"{problem}, got {value!r} (no UTC offset: add Z or +hh:mm)")
        parsed = parsed.replace(tzinfo=timezone.utc)
    return _in_range(parsed, value, where)


def _in_range(parsed: datetime, value, where: Path) -> datetime:
    problem = out_of_range(parsed)
    if problem is not None:
        raise ConfigError(f"{where} $.as_of: {problem}, got {value if isinstance(value, str) else parsed.isoformat()}")
    return parsed


def _scope(text: str, path: Path) -> Path:
    """The folder a glob starts from: its leading components without wildcards."""
    parts = path.parts
    for index, part in enumerate(parts):
        if glob.has_magic(part):
            return Path(*parts[:index]) if index else Path(".")
    return path.parent


def _inside(real: str, scope: str) -> bool:
    return real == scope or real.startswith(scope.rstrip(os.sep) + os.sep)


def _dir_key(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino) if stat.S_ISDIR(st.st_mode) else None


def _hidden(name: str) -> bool:
    return name.startswith(".")


def _walk(folder: str, pattern: list[str], ancestors: tuple, out: list[str], spec: str) -> None:
    """Matches of the glob components *pattern* under *folder*; a symlink that leads back into
    a folder being walked (*ancestors*) is an error, never followed round."""
    if not pattern:
        out.append(folder)
        return
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        _walk(folder, rest, ancestors, out, spec)  # zero folders
        for name in _names(folder, spec):
            if _hidden(name):
                continue
            sub = os.path.join(folder, name)
            key = _dir_key(sub)
            if key is None:
                continue
            if key in ancestors:
                raise ConfigError(f"{spec}: symlink loop at {sub} (it leads back to {os.path.realpath(sub)})")
            _walk(sub, pattern, ancestors + (key,), out, spec)
        return
    if glob.has_magic(head):
        names = [n for n in _names(folder, spec) if fnmatch.fnmatchcase(n, head) and (not _hidden(n) or _hidden(head))]
    else:
        names = [head] if os.path.lexists(os.path.join(folder, head)) else []
    for name in names:
        sub = os.path.join(folder, name)
        if rest:
            key = _dir_key(sub)
            if key is not None:
                if key in ancestors:
                    raise ConfigError(f"{spec}: symlink loop at {sub} (it leads back to {os.path.realpath(sub)})")
                _walk(sub, rest, ancestors + (key,), out, spec)
        else:
            out.append(sub)


def _names(folder: str, spec: str) -> list[str]:
    try:
        return sorted(os.listdir(folder))
    except NotADirectoryError:
        return []
    except OSError as exc:
        raise ConfigError(f"{spec}: cannot list {folder} ({exc.strerror or exc})") from None


def _check_file(path: str, spec: str, scope_real: str | None) -> str:
    """The real path of the matched *path*; a ConfigError unless it is a regular file (inside
    *scope_real* when given)."""
    shown = f"{spec}: {path}" if path != spec else path
    if os.path.islink(path) and not os.path.exists(path):
        raise ConfigError(f"{shown}: dangling symlink (to {os.readlink(path)})")
    try:
        st = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ConfigError(f"{shown}: symlink loop") from None
        raise ConfigError(f"{shown}: cannot read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(st.st_mode):
        raise ConfigError(f"{shown}: is a folder, not a file (name the folder itself, or a pattern that matches files)")
    if not stat.S_ISREG(st.st_mode):
        raise ConfigError(f"{shown}: not a regular file (a FIFO, socket or device cannot be read as input)")
    real = os.path.realpath(path)
    if scope_real is not None and not _inside(real, scope_real):
        raise ConfigError(f"{shown}: leads outside {scope_real} (to {real}); name files outside explicitly")
    return real


def _unique(paths: list[str], spec: str, scope: Path | None) -> list[Path]:
    """Sorted, each real file once (a file reached through two links is read once)."""
    scope_real = os.path.realpath(scope) if scope is not None else None
    seen: set[str] = set()
    found = []
    for p in sorted(set(paths), key=Path):
        real = _check_file(p, spec, scope_real)
        if real not in seen:
            seen.add(real)
            found.append(Path(p))
    return found


def expand(spec: str | Path, base: Path, suffixes: tuple[str, ...]) -> list[Path]:
    """A file, a folder (its files with *suffixes*, recursively) or a glob; sorted. Nothing found is an error.

    Folders and globs never reach outside the folder they start from (a glob: its leading
    components without wildcards): a match that is a symlink leading outside is refused, so are
    dangling symlinks, FIFOs and other non-files, folders matched by a glob, and symlink loops;
    each real file is read once however many links reach it. A file named explicitly (no
    wildcard) is read wherever it is, ``../other/contract.toml`` included.
    """
    text = str(spec)
    path = Path(text) if Path(text).is_absolute() else base / text
    if glob.has_magic(text):
        scope = _scope(text, path)
        matches: list[str] = []
        key = _dir_key(str(scope))
        if key is not None:
            _walk(str(scope), list(path.parts[len(scope.parts):]), (key,), matches, text)
        if not matches:
            raise ConfigError(f"{text}: no file matches")
        return _unique(matches, text, scope)
    if path.is_dir():
        matches = []
        _walk(str(path), ["**", "*"], (_dir_key(str(path)),), matches, str(path))
        wanted = [m for m in matches if Path(m).suffix in suffixes and (os.path.islink(m) or not os.path.isdir(m))]
        found = _unique(wanted, str(path), path)
        if not found:
            raise ConfigError(f"{path}: no {'/'.join(suffixes)} files in this folder")
        return found
    if os.path.islink(path) and not path.exists():
        raise ConfigError(f"{path}: dangling symlink (to {os.readlink(path)})")
    if not path.exists():
        raise ConfigError(f"{path}: no such file or folder")
    _check_file(str(path), str(path), None)
    return [path]


def load_contract(path: Path) -> Contract:
    data = read_toml(path)
    try:
        contract = structure_contract(data)
    except StructureError as exc:
        field_path, msg = exc.problems[0]
        raise ConfigError(f"{path} {field_path}: {msg}") from None
    return evolve(contract, path=str(path))


def load_contracts(specs, base: Path) -> list[Contract]:
    paths: list[Path] = []
    for spec in specs:
        paths.extend(expand(spec, base, (".toml",)))
    if not paths:
        raise ConfigError("no contracts given")
    return [load_contract(p) for p in paths]
