"""The reproducible record of an audit run, written into every json report as ``run``.

It says what the run read and with what, so that the same run can be made again and its
findings compared (``cso-policy verify``): the command (workspace, contract and record
paths as given, policy folders, ``--select``/``--ignore``, waivers, baseline, ``--as-of``,
local plugins), the tool and every plugin with its version, each policy version with the
hash of its content and the hash its ``LOCK`` holds, every contract file and record input
with its sha256 and size (an input that is not a file, such as a database: where it was read
and how many records it gave), and the sha256 of the workspace file, the waivers and the
baseline. Nothing in it depends on the machine or the clock, so the report stays the same for
the same inputs; options are recorded by hash, so that no credential is written.
"""

from __future__ import annotations

import errno
import hashlib
from pathlib import Path

import orjson

from .._version import __version__
from ..errors import ConfigError
from ..policy.lock import read_lock
from ..policy.lock import content_hash

RECORD_VERSION = 1


def file_digest(path: Path) -> dict:
    """sha256 and size of a file, read in blocks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
            size += len(block)
    return {"sha256": digest.hexdigest(), "bytes": size}


def _maybe_digest(path: Path | None) -> dict | None:
    if path is None:
        return None
    try:
        return {"path": str(path), **file_digest(path)}
    except OSError as exc:
        return {"path": str(path), "error": exc.strerror or str(exc)}


def run_record(spec, setup, views: dict, inputs: list[dict]) -> dict:
    """The record of one run: *spec* (the command, an ``AuditSpec``), *setup* (what it loaded),
    *views* (the contracts resolved against their policies), *inputs* (the summary's
    accounting of each input)."""
    pm = setup.catalogue.pm
    plugins = []
    for name, _ in sorted(pm.list_name_plugin()):
        info = pm.plugin_info(name)
        version = info.version or (__version__ if info.origin == "builtin" else None)
        plugins.append({"name": name, "version": version, "origin": info.origin})
    policies = {}
    for view in views.values():
        policy = view.policy
        if policy.ref not in policies:
            locked = read_lock(policy.path.parent.parent).get(f"{policy.ref}")
            try:
                content = content_hash(policy.path)
            except OSError as exc:
                raise ConfigError(f"{exc.filename or policy.path}: cannot read ({exc.strerror or exc})") from None
            policies[policy.ref] = {"ref": policy.ref, "content": content, "lock": locked}
    contracts = sorted({view.contract.path for view in views.values() if view.contract.path})
    workspace = Path(spec.workspace) if spec.workspace is not None else None
    config = _maybe_digest(workspace / "cso-policy.toml") if workspace is not None else None
    return {
        "version": RECORD_VERSION,
        "tool": {"name": "cso-policy", "version": __version__},
        "plugins": plugins,
        "command": {
            "workspace": str(spec.workspace) if spec.workspace is not None else None,
            "contracts": list(spec.contract_paths),
            "records": list(spec.record_paths),
            "policies": [str(p) for p in spec.policy_paths],
            "select": list(spec.select),
            "ignore": list(spec.ignore),
            "waivers": str(spec.waivers_path) if spec.waivers_path is not None else None,
            "baseline": str(spec.baseline_path) if spec.baseline_path is not None else None,
            "plugins": list(spec.plugins),
            "as_of": spec.as_of.isoformat(),
            "baseline_run": spec.baseline_run,
        },
        "workspace_file": config,
        "options_sha256": hashlib.sha256(orjson.dumps(setup.options or {}, option=orjson.OPT_SORT_KEYS,
                                                      default=str)).hexdigest(),
        "policies": [policies[ref] for ref in sorted(policies)],
        "contracts": [_maybe_digest(Path(path)) for path in contracts],
        "inputs": [_input(item) for item in inputs],
        "waivers": _maybe_digest(_waivers_path(spec, workspace)),
        "baseline": _maybe_digest(spec.baseline_path),
    }


def _waivers_path(spec, workspace: Path | None) -> Path | None:
    if spec.waivers_path is not None:
        return Path(spec.waivers_path)
    if workspace is None:
        return None
    from ..inputs.workspace import load_workspace

    return load_workspace(workspace).waivers


def _input(item: dict) -> dict:
    """One input of the summary's accounting, with the sha256 of its file when it is one."""
    out = {"source": item["source"], "input": item["input"], "records": item["read"]}
    path = Path(item["input"])
    try:
        if path.is_file():
            out.update(file_digest(path))
    except OSError as exc:
        if exc.errno != errno.ENAMETOOLONG:  # too long for a file name: an input that is not a file
            out["error"] = exc.strerror or str(exc)
    return out


def compare(recorded: dict, current: dict) -> list[str]:
    """What differs between two run records, one line each (empty: the same inputs and tools)."""
    lines = []
    if recorded.get("tool") != current.get("tool"):
        lines.append(f"tool: {_version(recorded.get('tool'))} then, {_version(current.get('tool'))} now")
    then_plugins = {p["name"]: p for p in recorded.get("plugins", [])}
    now_plugins = {p["name"]: p for p in current.get("plugins", [])}
    for name in sorted(set(then_plugins) | set(now_plugins)):
        a, b = then_plugins.get(name), now_plugins.get(name)
        if a is None:
            lines.append(f"plugin {name}: not loaded then, {b.get('version') or 'loaded'} now")
        elif b is None:
            lines.append(f"plugin {name}: {a.get('version') or 'loaded'} then, not loaded now")
        elif a.get("version") != b.get("version"):
            lines.append(f"plugin {name}: {a.get('version')} then, {b.get('version')} now")
    for key, what in (("policies", "policy"), ("contracts", "contract"), ("inputs", "input")):
        name = "ref" if key == "policies" else "path" if key == "contracts" else "input"
        then = {str(x.get(name)): x for x in recorded.get(key) or [] if x}
        now = {str(x.get(name)): x for x in current.get(key) or [] if x}
        for item in sorted(set(then) | set(now)):
            a, b = then.get(item), now.get(item)
            if a is None:
                lines.append(f"{what} {item}: new")
            elif b is None:
                lines.append(f"{what} {item}: gone")
            elif a != b:
                lines.append(f"{what} {item}: changed ({_differs(a, b)})")
    for key in ("workspace_file", "waivers", "baseline", "options_sha256"):
        if recorded.get(key) != current.get(key):
            lines.append(f"{key.replace('_', ' ')}: changed")
    return lines


def _version(tool) -> str:
    return f"{tool.get('name')} {tool.get('version')}" if isinstance(tool, dict) else "unknown"


def _differs(a: dict, b: dict) -> str:
    return ", ".join(f"{k} {a.get(k)} -> {b.get(k)}" if k != "sha256" and k != "content" else f"{k} differs"
                     for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k))


__all__ = ["RECORD_VERSION", "compare", "file_digest", "run_record"]
