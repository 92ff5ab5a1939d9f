"""``cso-policy lint``: contract and policy files, as a pre-commit hook.

A TOML file is a contract when it has ``policy`` or ``packages``; a waivers file when it has
``[[waiver]]`` tables; it is policy data when it sits in a version folder (beside a
``manifest.toml``); ``LOCK`` files hold the content hashes of published versions; the
workspace file ``cso-policy.toml`` is left alone. Folders are searched recursively. The core checks file
formats, policy versions, time zones and holiday regions; each domain checks its own
contract fields (``cso_policy_lint_contract``) and its policy module (``PolicyModule.lint``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import holidays as holidays_lib
from attrs import define, field

from ..core.context import load_zone
from ..core.model import Contract, Level
from ..errors import ConfigError
from ..plugins import PluginProblem
from ..inputs.workspace import CONFIG_NAME
from ..policy.lock import LOCK_NAME, content_hash, read_lock
from ..policy.registry import CORE_MODULE, Manifest, Policy, PolicyModule, PolicyRegistry
from .catalogue import LintFinding, LintProblem, LintProblems, LintRule, suggest_country, suggest_subdivision, suggest_timezone
from .files import Collector, read_file, structured

WORKSPACE_FILES = (CONFIG_NAME,)  # workspace files that are not contracts

ContractCheck = Callable[[Contract, "Policy | None"], Iterable[LintProblem]]


@define
class Linter:
    """Lint with the rules and checks the registered plugins declare."""

    registry: PolicyRegistry
    rules: Mapping[str, LintRule]
    contract_checks: list[tuple[str, ContractCheck]]  # (plugin, check)
    modules: Mapping[str, PolicyModule]
    problems: list[PluginProblem] = field(factory=list)
    checked: set[str] = field(factory=set)  # the files read so far

    def collector(self, path: Path) -> Collector:
        self.checked.add(str(path))
        return Collector(path, {rule_id: r.level for rule_id, r in self.rules.items()})

    # -------------------------------------------------------------- contracts

    def lint_contract(self, path: Path, data: dict | None = None, col: Collector | None = None) -> list[LintFinding]:
        col = col or self.collector(path)
        if data is None:
            data = col.read(path, "contract.invalid_toml")
            if data is None:
                return col.found
        contract, problems = structured(data, Contract, "contract.schema", at_key=True)
        if contract is None:
            col.extend(problems)
            return col.found
        try:
            policy = self.registry.get(contract.policy)
        except ConfigError as exc:
            available = self.registry.available()
            if contract.policy in available:  # it exists but does not load: say why, not "unknown"
                col.add("contract.unknown_policy", f"policy {contract.policy!r} cannot be loaded: {exc}", "$.policy")
            else:
                listed = ", ".join(sorted(available)) or "none"
                col.add("contract.unknown_policy", f"unknown policy {contract.policy!r} (available: {listed})", "$.policy")
            policy = None
        col.extend(_term_and_place(contract))
        for plugin, check in self.contract_checks:
            try:
                col.extend(check(contract, policy))
            except Exception as exc:  # a lint plugin's bug is said, not a traceback
                self.problems.append(PluginProblem(plugin, "cso_policy_lint_contract", f"{type(exc).__name__}: {exc}"))
        return col.found

    def lint_waivers(self, data: dict, col: Collector) -> list[LintFinding]:
        """A waivers file: every waiver well formed, and narrow (naming a record or a lob)."""
        from ..domains.waivers.waivers import WaiverFile

        waivers, problems = structured(data, WaiverFile, "waivers.schema", at_key=True)
        if waivers is None:
            col.extend(problems)
            return col.found
        for i, waiver in enumerate(waivers.waiver):
            if waiver.record is None and waiver.lob is None:
                col.add("waivers.schema", "a waiver names a record or a lob (waive narrowly)", f"$.waiver[{i}]")
        return col.found

    # -------------------------------------------------------------- policy versions

    def lint_policy_version(self, folder: Path) -> list[LintFinding]:
        manifest_path = folder / "manifest.toml"
        col = self.collector(manifest_path)
        data = col.read(manifest_path, "policy.invalid_toml")
        if data is None:
            return col.found
        manifest, problems = structured(data, Manifest, "policy.manifest")
        if manifest is None:
            col.extend(problems)
            return col.found
        if (manifest.id, manifest.version) != (folder.parent.name, folder.name):
            col.add("policy.manifest", f"manifest says {manifest.id}@{manifest.version} but the folder is "
                    f"{folder.parent.name}/{folder.name}", "$.id")
        source = folder / manifest.source.file
        if not _is_file(source):
            col.add("policy.source_hash", f"source file {manifest.source.file} is missing", "$.source.file")
        else:
            self.checked.add(str(source))
            digest = hashlib.sha256(read_file(source)).hexdigest()
            if digest != manifest.source.sha256:
                col.add("policy.source_hash", f"sha256 of {manifest.source.file} is {digest}, "
                        f"manifest says {manifest.source.sha256}", "$.source.sha256")
        for name in manifest.modules:
            if not _is_file(folder / f"{name}.toml"):
                col.add("policy.manifest", f"module {name!r} is listed but {name}.toml is missing", "$.modules")
        lock = read_lock(folder.parent.parent)
        ref = f"{folder.parent.name}@{folder.name}"
        if ref in lock and lock[ref] != _content_hash(folder):
            col.add("policy.locked_version_changed",
                    f"{ref} is locked (published) but its files changed; revert them and add the new terms as a new version folder")
        found = col.found
        tables: dict[str, dict | None] = {}
        cols: dict[str, Collector] = {}
        for name in dict.fromkeys([CORE_MODULE, *manifest.modules]):
            path = folder / f"{name}.toml"
            if name not in self.modules or self.modules[name].lint is None or not _is_file(path):
                continue
            cols[name] = self.collector(path)
            tables[name] = cols[name].read(path, "policy.invalid_toml")
        core = tables.get(CORE_MODULE)
        tiers = core.get("tiers", []) if isinstance(core, dict) else []
        tiers = [t for t in tiers if isinstance(t, str)] if isinstance(tiers, list) else []
        for name, col in cols.items():
            if tables[name] is not None:
                try:
                    col.extend(self.modules[name].lint(tables[name], tiers))
                except Exception as exc:
                    self.problems.append(PluginProblem(f"policy module {name}", "lint", f"{type(exc).__name__}: {exc}"))
            found += col.found
        return found

    # -------------------------------------------------------------- walking

    def lint_paths(self, paths: Iterable[Path]) -> list[LintFinding]:
        """Lint files and folders (recursively); policy version folders are linted once each."""
        found: list[LintFinding] = []
        versions: set[Path] = set()
        for given in paths:
            is_dir = _is_dir(given)
            files = sorted(p for p in given.rglob("*") if _is_file(p)) if is_dir else [given]
            for path in files:
                explicit = not is_dir
                if path.name == LOCK_NAME:
                    for manifest in sorted(path.parent.glob("*/*/manifest.toml")):
                        versions.add(manifest.parent)
                    continue
                if path.suffix != ".toml" or path.name in WORKSPACE_FILES:
                    if explicit and path.name not in WORKSPACE_FILES:
                        found.append(LintFinding(rule="contract.not_recognised", level=self.rules["contract.not_recognised"].level,
                                                 file=str(path), message="not a TOML file"))
                    continue
                version = _version_folder(path)
                if version is not None:
                    versions.add(version)
                    continue
                found += self._lint_toml_file(path, explicit)
        for folder in sorted(versions):
            found += self.lint_policy_version(folder)
        return found

    def _lint_toml_file(self, path: Path, explicit: bool) -> list[LintFinding]:
        col = self.collector(path)
        data = col.read(path, "contract.invalid_toml")
        if data is None:
            return col.found
        if "policy" in data or "packages" in data:
            return self.lint_contract(path, data, col)
        if "waiver" in data:  # a workspace's waivers file
            return self.lint_waivers(data, col)
        if explicit:
            col.add("contract.not_recognised", "neither a contract (no policy/packages) nor policy data (no manifest.toml beside it)")
        else:  # a TOML file in a folder that is not a contract is skipped, not checked
            self.checked.discard(str(path))
        return col.found


def _version_folder(path: Path) -> Path | None:
    folder = path.parent
    return folder if _is_file(folder / "manifest.toml") else None


def _is_file(path: Path) -> bool:
    """Whether *path* is a file; a name the system refuses (too long) is none."""
    try:
        return path.is_file()
    except OSError:
        return False


def _is_dir(given: Path) -> bool:
    """Whether a path given to lint is a folder; a ConfigError when it is not there at all."""
    try:
        if given.is_dir():
            return True
        if given.exists():
            return False
    except OSError as exc:
        raise ConfigError(f"{given}: cannot read ({exc.strerror or exc})") from None
    raise ConfigError(f"{given}: no such file or folder")


def _content_hash(folder: Path) -> str:
    try:
        return content_hash(folder)
    except OSError as exc:
        raise ConfigError(f"{exc.filename or folder}: cannot read ({exc.strerror or exc})") from None


def _shown(text: str, limit: int = 60) -> str:
    """*text* quoted, cut short when long (a 5000-character name would fill the terminal)."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"... ({len(text)} characters)"


def _term_and_place(contract: Contract) -> list[LintProblem]:
    found = LintProblems()
    term = contract.term
    if term.end <= term.start:
        found.add("contract.term_order", f"term end {term.end} is not after its start {term.start}", "$.term")
    try:
        load_zone(contract.timezone, contract.path)  # as audit loads it: "America" is a folder of zones
    except ConfigError:
        hint = suggest_timezone(contract.timezone) or " (e.g. America/New_York)"
        found.add("contract.timezone", f"{_shown(contract.timezone)} is not an IANA time zone name{hint}", "$.timezone")
    if contract.holidays is not None:
        supported = holidays_lib.list_supported_countries()
        if contract.holidays not in supported:
            found.add("contract.holidays", f"holiday country {contract.holidays!r} is unknown to the holidays package"
                      f"{suggest_country(contract.holidays, supported)}", "$.holidays")
        elif contract.holidays_subdiv is not None and contract.holidays_subdiv not in supported[contract.holidays]:
            subdivisions = supported[contract.holidays]
            listed = ", ".join(subdivisions[:12]) + ("…" if len(subdivisions) > 12 else "")
            found.add("contract.holidays", f"subdivision {contract.holidays_subdiv!r} is not one of "
                      f"{contract.holidays}'s: {listed}"
                      f"{suggest_subdivision(contract.holidays, contract.holidays_subdiv, subdivisions)}",
                      "$.holidays_subdiv")
    elif contract.holidays_subdiv is not None:
        found.add("contract.holidays", "holidays_subdiv is given without a holidays country", "$.holidays_subdiv")
    return found


__all__ = ["Linter", "LintFinding", "LintProblem", "LintRule", "Level"]
