"""Finding the inputs: the workspace config, contract files and record files."""

from __future__ import annotations

import glob
from pathlib import Path

from attrs import evolve, frozen

from ..core.convert import StructureError, structure_contract
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
    for index, entry in enumerate(_list(data, "records", config_path)):
        where = f"{config_path} $.records[{index}]"
        if isinstance(entry, str):
            records.append(RecordInput(path=Path(entry), where=where))
        elif isinstance(entry, dict) and (isinstance(entry.get("path"), str) or isinstance(entry.get("source"), str)):
            extra = {k: v for k, v in entry.items() if k not in ("path", "source")}
            path = Path(entry["path"]) if isinstance(entry.get("path"), str) else None
            records.append(RecordInput(path=path, source=entry.get("source"), options=extra, where=where))
        else:
            raise ConfigError(f"{config_path} $.records[{index}]: expected a path, or a table with path and/or source")
    plugins, options = _plugins(data.get("plugins", []), config_path)
    waivers = data.get("waivers")
    if waivers is not None and not isinstance(waivers, str):
        raise ConfigError(f"{config_path} $.waivers: expected the path of a waivers file")
    return Workspace(
        root=root,
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
        return tuple(str(v) for v in value), {}
    if not isinstance(value, dict):
        raise ConfigError(f"{where} $.plugins: expected a list of plugins or a table")
    load = value.get("load", [])
    if not isinstance(load, list):
        raise ConfigError(f"{where} $.plugins.load: expected a list of modules or .py files")
    options = {k: v for k, v in value.items() if k != "load"}
    for name, table in options.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{where} $.plugins.{name}: expected a table of options")
    return tuple(str(v) for v in load), options


def _list(data: dict, key: str, where: Path) -> list:
    value = data.get(key, [])
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        raise ConfigError(f"{where} $.{key}: expected a list of paths")
    return value


def expand(spec: str | Path, base: Path, suffixes: tuple[str, ...]) -> list[Path]:
    """A file, a folder (its files with *suffixes*, recursively) or a glob; sorted. Nothing found is an error."""
    text = str(spec)
    path = Path(text) if Path(text).is_absolute() else base / text
    if glob.has_magic(text):
        found = sorted(Path(p) for p in glob.glob(str(path), recursive=True) if Path(p).is_file())
        if not found:
            raise ConfigError(f"{text}: no file matches")
        return found
    if path.is_dir():
        found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in suffixes)
        if not found:
            raise ConfigError(f"{path}: no {'/'.join(suffixes)} files in this folder")
        return found
    if not path.exists():
        raise ConfigError(f"{path}: no such file or folder")
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
