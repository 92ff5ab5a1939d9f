"""Wiring: plugins -> catalogues (rules, sources, formats, policy paths) -> an audit."""

from __future__ import annotations

import fnmatch
import heapq
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

from attrs import define, evolve, field

from .context import ContractView
from .errors import ConfigError, UsageError
from .evaluator import AuditResult, RawRecord, build_contracts, run_audit
from .model import Contract
from .plugins import PluginManager, PluginProblem
from .policy import PolicyRegistry
from .reporters import Report, ReportFormat
from .rule import Rule
from .sources import RecordSource
from .workspace import RecordInput, expand


def _by_plugin(pm: PluginManager, hook_name: str, **kwargs) -> Iterator[tuple[str, object]]:
    """(plugin name, item) for every item every plugin returns from a list hook, in
    registration order; a plugin that raises is recorded in ``pm.problems`` and skipped."""
    hook = getattr(pm.hook, hook_name)
    for impl in reversed(hook.get_hookimpls()):
        try:
            items = list(impl.function(**{k: kwargs[k] for k in impl.argnames}) or ())
        except Exception as exc:
            pm.problems.append(PluginProblem(impl.plugin_name, hook_name, f"{type(exc).__name__}: {exc}"))
            continue
        for item in items:
            yield impl.plugin_name, item


@define
class Catalogue:
    """What the registered plugins provide."""

    pm: PluginManager
    rules: list[Rule] = field(factory=list)
    sources: dict[str, RecordSource] = field(factory=dict)
    formats: dict[str, ReportFormat] = field(factory=dict)
    policy_roots: list[Path] = field(factory=list)
    origins: dict[tuple[str, str], str] = field(factory=dict)  # ("rule"|"source"|"format", name) -> plugin

    @classmethod
    def from_plugins(cls, pm: PluginManager) -> Catalogue:
        cat = cls(pm=pm)
        seen: dict[str, str] = {}
        for plugin, r in _by_plugin(pm, "cso_policy_rules"):
            if r.id in seen:
                raise ConfigError(f"rule id {r.id!r} from plugin {plugin} is already defined by {seen[r.id]}")
            seen[r.id] = plugin
            cat.origins[("rule", r.id)] = plugin
            builtin = plugin.startswith("cso_policy.")
            cat.rules.append(r if builtin or r.plugin else evolve(r, plugin=plugin))
        cat.rules.sort(key=lambda r: r.id)
        for plugin, source in _by_plugin(pm, "cso_policy_record_sources"):
            _unique(cat.sources, source.name, plugin, "record source")[source.name] = source
            cat.origins[("source", source.name)] = plugin
        for plugin, fmt in _by_plugin(pm, "cso_policy_report_formats"):
            _unique(cat.formats, fmt.name, plugin, "report format")[fmt.name] = fmt
            cat.origins[("format", fmt.name)] = plugin
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

    def configure(self, options: dict, root: Path | None) -> None:
        """Ask every plugin to check its [plugins.<name>] options; any problem is a ConfigError."""
        found = [str(p) for _, p in _by_plugin(self.pm, "cso_policy_configure", options=options, root=root)]
        if found:
            raise ConfigError("; ".join(found))

    def adjuster(self):
        """The cso_policy_adjust_finding hook as a callable, or None when no plugin implements it."""
        hook = self.pm.hook.cso_policy_adjust_finding
        if not hook.get_hookimpls():
            return None
        return lambda finding, audit: hook(finding=finding, audit=audit)

    def suffixes(self) -> tuple[str, ...]:
        return tuple(s for source in self.sources.values() for s in source.suffixes)


def _unique(table: dict, name: str, plugin: str, what: str) -> dict:
    if name in table:
        raise ConfigError(f"{what} {name!r} from plugin {plugin} is already defined")
    return table


def record_streams(
    cat: Catalogue, inputs: Iterable[RecordInput], base: Path, plugin_options: dict | None = None
) -> list[Iterator[RawRecord]]:
    """One lazy stream per file, in the order given; files are expanded and checked up front.
    A source's options are its [plugins.<source name>] table overlaid with the entry's own."""
    plugin_options = plugin_options or {}
    streams = []
    for record_input in inputs:
        paths = [None] if record_input.path is None else expand(record_input.path, base, cat.suffixes())
        for path in paths:
            concrete = evolve(record_input, path=path)
            source = cat.source_for(concrete)
            if path is not None and not path.is_file():
                raise ConfigError(f"{path}: not a file")
            options = {**plugin_options.get(source.name, {}), **concrete.options}
            streams.append(source.read(path, options))
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
    plugin_options: dict | None = None,
    wrap_streams=None,
) -> tuple[AuditResult, dict[str, ContractView]]:
    views = build_contracts(contracts, cat.registry(policy_roots))
    streams = record_streams(cat, inputs, base, plugin_options)
    if wrap_streams is not None:
        streams = wrap_streams(streams)
    if len(streams) > 1:  # files each in date order -> one stream in date order (caps crossed chronologically)
        streams = [heapq.merge(*streams, key=record_day)]
    result = run_audit(
        views,
        rules if rules is not None else cat.rules,
        streams,
        as_of,
        options=plugin_options,
        adjust=cat.adjuster(),
        problems=cat.pm.problems,
    )
    return result, views


def hours_burn(views: dict[str, ContractView]) -> list[dict]:
    """Per contract and package: hours per contract quarter against the quarterly cap (from the ledger)."""
    out = []
    for view in sorted(views.values(), key=lambda v: v.id):
        for pool in view.pools.values():
            quarters = [
                {"period": view.calendar.label("quarter", q), "hours": round(t.total, 4), "cap": pool.quarterly_cap}
                for q, t in sorted(pool.quarters.items())
            ]
            out.append({"contract": view.id, "package": pool.id, "tier": pool.tier, "quarters": quarters})
    return out


def record_day(raw: RawRecord) -> str:
    """Sort key of a raw record across files: its day (date, opened_at or approved_at)."""
    obj = raw[2]
    if type(obj) is not dict:
        return ""
    day = obj.get("date") or obj.get("opened_at") or obj.get("approved_at")
    return day[:10] if type(day) is str else ""


def make_report(result: AuditResult, views: dict[str, ContractView], as_of: datetime | None) -> Report:
    return Report(
        findings=result.findings,
        rules=result.rules,
        records=result.audit.records,
        records_by_kind=dict(result.audit.by_kind),
        contracts=sorted(views),
        policies=sorted({v.policy_ref for v in views.values()}),
        as_of=as_of,
        sections={**result.audit.summary, "hours": hours_burn(views)},
    )
