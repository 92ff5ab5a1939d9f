"""Wiring: plugins -> catalogues (rules, sources, formats, policy paths) -> an audit."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

import pluggy
from attrs import define, evolve, field

from .context import ContractView
from .errors import ConfigError, UsageError
from .evaluator import AuditResult, RawRecord, build_contracts, run_audit
from .model import Contract
from .policy import PolicyRegistry
from .reporters import Report, ReportFormat
from .rule import Rule
from .sources import RecordSource
from .workspace import RecordInput, expand


def _by_plugin(pm: pluggy.PluginManager, hook_name: str) -> Iterator[tuple[str, object]]:
    """(plugin name, item) for every item every plugin returns from a list hook, in registration order."""
    hook = getattr(pm.hook, hook_name)
    for impl in reversed(hook.get_hookimpls()):
        for item in impl.function() or ():
            yield impl.plugin_name, item


@define
class Catalogue:
    """What the registered plugins provide."""

    pm: pluggy.PluginManager
    rules: list[Rule] = field(factory=list)
    sources: dict[str, RecordSource] = field(factory=dict)
    formats: dict[str, ReportFormat] = field(factory=dict)
    policy_roots: list[Path] = field(factory=list)

    @classmethod
    def from_plugins(cls, pm: pluggy.PluginManager) -> Catalogue:
        cat = cls(pm=pm)
        seen: dict[str, str] = {}
        for plugin, r in _by_plugin(pm, "cso_policy_rules"):
            if r.id in seen:
                raise ConfigError(f"rule id {r.id!r} from plugin {plugin} is already defined by {seen[r.id]}")
            seen[r.id] = plugin
            builtin = plugin.startswith("cso_policy.")
            cat.rules.append(r if builtin or r.plugin else evolve(r, plugin=plugin))
        cat.rules.sort(key=lambda r: r.id)
        for plugin, source in _by_plugin(pm, "cso_policy_record_sources"):
            _unique(cat.sources, source.name, plugin, "record source")[source.name] = source
        for plugin, fmt in _by_plugin(pm, "cso_policy_report_formats"):
            _unique(cat.formats, fmt.name, plugin, "report format")[fmt.name] = fmt
        cat.policy_roots = [Path(p) for _, p in _by_plugin(pm, "cso_policy_policy_paths")]
        return cat

    def select(self, select: Iterable[str] = (), ignore: Iterable[str] = ()) -> list[Rule]:
        """Rules whose id matches any --select glob (all if none) and no --ignore glob."""
        select, ignore = list(select), list(ignore)
        chosen = [
            r
            for r in self.rules
            if (not select or any(fnmatch.fnmatchcase(r.id, g) for g in select))
            and not any(fnmatch.fnmatchcase(r.id, g) for g in ignore)
        ]
        for pattern in select:
            if not any(fnmatch.fnmatchcase(r.id, pattern) for r in self.rules):
                raise UsageError(f"--select {pattern!r} matches no rule (see `cso-policy rules`)")
        return chosen

    def registry(self, extra_roots: Iterable[Path] = ()) -> PolicyRegistry:
        return PolicyRegistry(list(extra_roots) + self.policy_roots)

    def source_for(self, record_input: RecordInput) -> RecordSource:
        if record_input.source is not None:
            source = self.sources.get(record_input.source)
            if source is None:
                raise ConfigError(
                    f"{record_input.path}: unknown record source {record_input.source!r} "
                    f"(known: {', '.join(sorted(self.sources))})"
                )
            return source
        suffix = record_input.path.suffix
        for source in self.sources.values():
            if suffix in source.suffixes:
                return source
        raise ConfigError(f"{record_input.path}: no record source reads {suffix or 'files without a suffix'} files")

    def suffixes(self) -> tuple[str, ...]:
        return tuple(s for source in self.sources.values() for s in source.suffixes)


def _unique(table: dict, name: str, plugin: str, what: str) -> dict:
    if name in table:
        raise ConfigError(f"{what} {name!r} from plugin {plugin} is already defined")
    return table


def record_streams(cat: Catalogue, inputs: Iterable[RecordInput], base: Path) -> list[Iterator[RawRecord]]:
    """One lazy stream per file, in the order given; files are expanded and checked up front."""
    streams = []
    for record_input in inputs:
        if record_input.path is None:  # a live source: its options say where to read
            streams.append(cat.source_for(record_input).read(None, dict(record_input.options)))
            continue
        for path in expand(record_input.path, base, cat.suffixes()):
            concrete = evolve(record_input, path=path)
            source = cat.source_for(concrete)
            if not path.is_file():
                raise ConfigError(f"{path}: not a file")
            streams.append(source.read(path, dict(concrete.options)))
    return streams


def audit(
    cat: Catalogue,
    contracts: list[Contract],
    inputs: list[RecordInput],
    *,
    base: Path = Path("."),
    rules: list[Rule] | None = None,
    as_of: datetime | None = None,
    policy_roots: Iterable[Path] = (),
) -> tuple[AuditResult, dict[str, ContractView]]:
    views = build_contracts(contracts, cat.registry(policy_roots))
    streams = record_streams(cat, inputs, base)
    result = run_audit(views, rules if rules is not None else cat.rules, streams, as_of)
    return result, views


def make_report(result: AuditResult, views: dict[str, ContractView], as_of: datetime | None) -> Report:
    return Report(
        findings=result.findings,
        rules=result.rules,
        records=result.audit.records,
        records_by_kind=dict(result.audit.by_kind),
        contracts=sorted(views),
        policies=sorted({v.policy_ref for v in views.values()}),
        as_of=as_of,
        sections=dict(result.audit.summary),
    )
