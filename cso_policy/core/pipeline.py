"""Wiring: plugins -> the catalogue of what they provide -> an audit -> a report."""

from __future__ import annotations

import contextlib
import fnmatch
import functools
import math
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path

import orjson
from attrs import define, evolve, field

from ..errors import ConfigError, CsoPolicyError, UsageError
from ..inputs.ingest import Ingest, Input
from ..inputs.sources import RawRecord, RecordSource
from ..inputs.workspace import RecordInput, expand
from ..lint import Linter
from ..lint.catalogue import CORE_LINT_RULES, LintRule
from ..plugins import PluginManager, PluginProblem, describe, plugin_output_to_stderr
from ..policy.registry import PolicyModule, PolicyRegistry
from ..reports import SUMMARY_KEYS, Report, ReportFormat
from .context import ContractView, Pool
from .convert import StructureError, short, structure, with_article
from .evaluator import PLUGIN_ERROR, AuditResult, Evaluator, build_contracts, run_audit
from .kinds import KindObserver, KindTable, RecordKind
from .model import Contract, Finding, Violation
from .rule import Rule
from .sections import EntitlementSection


def _by_plugin(pm: PluginManager, hook_name: str, *, lifo: bool = True, **kwargs) -> Iterator[tuple[str, object]]:
    """(plugin name, item) for every item every plugin returns from a list hook, the last
    registered plugin first as pluggy calls them (``lifo=False``: in registration order). A
    plugin that raises (even ``SystemExit``), returns something that is not a list, or an item
    that is not of the hook's documented type is recorded in ``pm.problems``; its bad items are
    skipped and its good ones kept."""
    impls = getattr(pm.hook, hook_name).get_hookimpls()
    expected = _EXPECTED.get(hook_name)
    for impl in reversed(impls) if lifo else impls:
        def problem(error: str, plugin=impl.plugin_name) -> None:
            pm.problems.append(PluginProblem(plugin, hook_name, error))

        try:
            result = impl.function(**{k: kwargs[k] for k in impl.argnames})
            if result is None:
                continue
            if isinstance(result, (str, bytes, dict)) or not isinstance(result, Iterable):
                problem(f"returned {short(result, 60)}, not a list")
                continue
            items = list(result)
        except (Exception, SystemExit) as exc:
            problem(_failure(exc))
            continue
        for item in items:
            why = _wrong(item, expected) if expected is not None else None
            if why is not None:
                problem(f"returned {why}; it was left out")
                continue
            yield impl.plugin_name, item


_failure = describe


def json_problem(value: object, depth: int = 0) -> str | None:
    """Why *value* is not plain JSON every report can write (objects with text keys, arrays, text,
    finite numbers, true, false, null), or None."""
    if value is None or isinstance(value, (bool, str)):
        return None
    if isinstance(value, int):
        return None if -2 ** 63 <= value < 2 ** 64 else f"the integer {short(value, 30)} is too large"
    if isinstance(value, float):
        return None if math.isfinite(value) else f"the number {value!r} is not finite"
    if depth > 200:
        return "it is nested too deeply"
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"the key {short(key, 30)} is not text"
            why = json_problem(item, depth + 1)
            if why is not None:
                return why
        return None
    if isinstance(value, (list, tuple)):
        for item in value:
            why = json_problem(item, depth + 1)
            if why is not None:
                return why
        return None
    return f"{with_article(type(value).__name__)} is not a JSON value"


def plain_json(value: object) -> tuple[object, str | None]:
    """``(value as plain JSON types, None)``: dicts, lists, str, int, float, bool and None, as every
    report format reads them; or ``(None, why it is not plain JSON)``."""
    why = json_problem(value)
    if why is not None:
        return None, why
    try:
        return orjson.loads(orjson.dumps(value)), None
    except (TypeError, orjson.JSONEncodeError) as exc:  # a lone surrogate, a str subclass orjson refuses
        return None, str(exc)


# hook -> (accepted types, what the hookspec documents, the attribute naming an item or None)
_EXPECTED: dict[str, tuple[tuple[type, ...], str, str | None]] = {
    "cso_policy_rules": ((Rule,), "a Rule", "id"),
    "cso_policy_record_kinds": ((RecordKind, KindObserver), "a RecordKind or KindObserver", "name"),
    "cso_policy_record_sources": ((RecordSource,), "a RecordSource", "name"),
    "cso_policy_report_formats": ((ReportFormat,), "a ReportFormat", "name"),
    "cso_policy_policy_modules": ((PolicyModule,), "a PolicyModule", "name"),
    "cso_policy_lint_rules": ((LintRule,), "a LintRule", "id"),
    "cso_policy_policy_paths": ((str, os.PathLike), "a path", None),
    "cso_policy_configure": ((str,), "a str (a problem)", None),
    "cso_policy_entitlements": ((EntitlementSection,), "an EntitlementSection", None),
    "cso_policy_explain_terms": ((str,), "a str (a line)", None),
}


def _wrong(item: object, expected: tuple[tuple[type, ...], str, str | None]) -> str | None:
    """Why *item* is not what the hook documents, or None."""
    types, what, key = expected
    if not isinstance(item, types):
        return f"{short(item, 60)}, not {what}"
    if key is not None:
        if isinstance(item, KindObserver):  # names the kind it observes
            key = "kind"
        value = getattr(item, key, None)
        if not isinstance(value, str) or not value:
            return f"{type(item).__name__} with {key} {short(value, 60)}, not a non-empty str"
    return None


@define
class Catalogue:
    """What the registered plugins provide."""

    pm: PluginManager
    rules: list[Rule] = field(factory=list)
    kinds: KindTable = field(factory=KindTable)
    sources: dict[str, RecordSource] = field(factory=dict)
    formats: dict[str, ReportFormat] = field(factory=dict)
    policy_roots: list[Path] = field(factory=list)
    policy_modules: dict[str, PolicyModule] = field(factory=dict)
    lint_rules: dict[str, LintRule] = field(factory=dict)
    # ("rule"|"kind"|"source"|"format"|"policy module"|"lint rule", name) -> plugin
    origins: dict[tuple[str, str], str] = field(factory=dict)

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
        kinds = list(_by_plugin(pm, "cso_policy_record_kinds"))
        cat.kinds = KindTable.build(kinds)
        for plugin, kind in kinds:
            if hasattr(kind, "cls"):
                cat.origins[("kind", kind.name)] = plugin
        for plugin, module in _by_plugin(pm, "cso_policy_policy_modules"):
            _unique(cat.policy_modules, module.name, plugin, "policy module")[module.name] = module
            cat.origins[("policy module", module.name)] = plugin
        cat.lint_rules = {r.id: r for r in CORE_LINT_RULES}
        for plugin, lint_rule in _by_plugin(pm, "cso_policy_lint_rules"):
            _unique(cat.lint_rules, lint_rule.id, plugin, "lint rule")[lint_rule.id] = lint_rule
            cat.origins[("lint rule", lint_rule.id)] = plugin
        for plugin, source in _by_plugin(pm, "cso_policy_record_sources"):
            _unique(cat.sources, source.name, plugin, "record source")[source.name] = source
            cat.origins[("source", source.name)] = plugin
        for plugin, fmt in _by_plugin(pm, "cso_policy_report_formats"):
            builtin = plugin.startswith("cso_policy.")
            _unique(cat.formats, fmt.name, plugin, "report format")[fmt.name] = (
                fmt if builtin else evolve(fmt, write=_guarded_write(fmt, plugin)))
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
        return PolicyRegistry(list(extra_roots) + self.policy_roots, self.policy_modules)

    def linter(self, extra_roots: Iterable[Path] = ()) -> Linter:
        checks = _functions(self.pm, "cso_policy_lint_contract")
        return Linter(self.registry(extra_roots), self.lint_rules, checks, self.policy_modules)

    def entitlement_sections(self, pool: Pool, moment: datetime,
                             reserved: Iterable[str] = ()) -> list[EntitlementSection]:
        """What every domain shows of *pool* in ``cso-policy entitlements``. A section whose key
        is not text, is *reserved* or another plugin's, whose data is not plain JSON or whose
        text is not a list of str, is left out and recorded in ``pm.problems`` (once, however many
        packages it is asked about)."""
        problems = self.pm.problems
        known = len(problems)
        taken: dict[str, str] = dict.fromkeys(reserved, "the command")
        out = []
        for plugin, section in _by_plugin(self.pm, "cso_policy_entitlements", lifo=False, pool=pool, moment=moment):
            data, why = plain_json(section.data)
            if not isinstance(section.key, str) or not section.key:
                why = f"an EntitlementSection with key {short(section.key, 60)}, not a non-empty str"
            elif section.key in taken:
                why = f"section {section.key!r}, which {taken[section.key]} already shows"
            elif why is not None:
                why = f"section {section.key!r} whose data is not JSON-serialisable ({why})"
            elif not isinstance(section.text, (list, tuple)) or not all(isinstance(t, str) for t in section.text):
                why = f"section {section.key!r} whose text is not a list of str"
            if why is not None:
                problems.append(PluginProblem(plugin, "cso_policy_entitlements", f"returned {why}; it was left out"))
                continue
            taken[section.key] = f"plugin {plugin}"
            out.append(evolve(section, data=data, text=list(section.text)))
        fresh = problems[known:]
        del problems[known:]
        problems.extend(p for i, p in enumerate(fresh) if p not in problems[:known] and p not in fresh[:i])
        return out

    def report_sections(self, audit) -> tuple[dict, list[PluginProblem]]:
        """Summary sections the domains add to the report (``hours``...), as plain JSON, and the
        plugins that failed: raised (even ``SystemExit``), returned something other than a dict, or
        a section that is not plain JSON (a key that is not text, a number that is not finite,
        an object), or named like a part of the summary that is there already (the report's own,
        another plugin's): that section is left out, the others kept."""
        out: dict = {}
        failed = []
        taken = {key: "the report" for key in (*SUMMARY_KEYS, *audit.summary)}
        for plugin, impl in _functions(self.pm, "cso_policy_report_sections"):
            def problem(error: str, plugin=plugin) -> None:
                failed.append(PluginProblem(plugin, "cso_policy_report_sections", error))

            try:
                sections = impl(audit=audit)
            except (Exception, SystemExit) as exc:  # a plugin's bug is a plugin.error finding, not a traceback
                problem(_failure(exc))
                continue
            if sections is None:
                continue
            if not isinstance(sections, dict):
                problem(f"returned {short(sections, 60)}, not a dict")
                continue
            for key, value in sections.items():
                if not isinstance(key, str) or not key:
                    problem(f"returned section {short(key, 60)}, whose name is not a non-empty str; it was left out")
                    continue
                if key in taken:
                    problem(f"returned section {key!r}, which {taken[key]} already has; it was left out")
                    continue
                value, why = plain_json(value)
                if why is not None:
                    problem(f"returned section {short(key, 60)} that is not JSON-serialisable ({why}); it was left out")
                    continue
                out[key] = value
                taken[key] = f"plugin {plugin}"
        return out, failed

    def explain_terms(self, view: ContractView, pool: Pool | None) -> list[str]:
        """The lines the domains add under ``terms that applied`` in ``cso-policy explain``."""
        return [line for _, line in _by_plugin(self.pm, "cso_policy_explain_terms", lifo=False, contract=view, pool=pool)]

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
        """Ask every plugin to check its [plugins.<name>] options, and structure the table of each
        source that declares an options class; any problem is a ConfigError."""
        for name, source in self.sources.items():
            table = options.get(name)
            if source.options is not None and table is not None:
                if not isinstance(table, dict):
                    raise ConfigError(f"[plugins.{name}]: expected a table of options")
                try:
                    structure(table, source.options)
                except StructureError as exc:
                    field_path, msg = exc.problems[0]
                    raise ConfigError(f"[plugins.{name}] {field_path}: {msg}") from None
        found = [str(p) for _, p in _by_plugin(self.pm, "cso_policy_configure", options=options, root=root)]
        if found:
            raise ConfigError("; ".join(found))

    def adjusters(self) -> list:
        """The implementations of cso_policy_adjust_finding as pluggy calls them (the last
        registered first): (plugin name, function, argument names)."""
        impls = self.pm.hook.cso_policy_adjust_finding.get_hookimpls()
        return [(impl.plugin_name, impl.function, tuple(impl.argnames)) for impl in reversed(impls)]

    def suffixes(self) -> tuple[str, ...]:
        """Every suffix a source reads, sorted (for messages and folder expansion)."""
        return tuple(sorted({s for source in self.sources.values() for s in source.suffixes}))


def _functions(pm: PluginManager, hook_name: str):
    """(plugin name, implementation) of every plugin implementing *hook_name*, in registration order."""
    return [(impl.plugin_name, impl.function) for impl in getattr(pm.hook, hook_name).get_hookimpls()]


def _guarded_write(fmt: ReportFormat, plugin: str):
    """A plugin format's ``write``: what it prints goes to stderr, not into the report; a
    ``sys.exit`` in it is a one-line error naming the format and the plugin (exit 2), not an exit
    with a code that claims anything about the findings."""
    write = fmt.write

    def guarded(report, stream):
        try:
            with plugin_output_to_stderr(fd=False) if stream is not sys.stdout else contextlib.nullcontext():
                return write(report, stream)
        except SystemExit as exc:
            raise CsoPolicyError(f"report format {fmt.name} of plugin {plugin} called sys.exit({exc.code!r}) while "
                                 "writing the report; no report was written") from None

    return guarded


def _unique(table: dict, name: str, plugin: str, what: str) -> dict:
    if name in table:
        raise ConfigError(f"{what} {name!r} from plugin {plugin} is already defined")
    return table


def record_inputs(
    cat: Catalogue, inputs: Iterable[RecordInput], base: Path, plugin_options: dict | None = None,
    decoded: bool = False,
) -> list[Input]:
    """One :class:`Input` per file (or live source), in the order given; files are expanded and
    checked up front, nothing is read yet. A source's options are its [plugins.<source name>]
    table overlaid with the entry's own. A source with undecoded ``lines`` is read through them
    (the ingest decodes them), unless *decoded* is asked for."""
    plugin_options = plugin_options or {}
    out = []
    seen: dict[tuple[str, str], list] = {}  # (real path, source) -> the options it is read with: once each
    for record_input in inputs:
        paths = [None] if record_input.path is None else expand(record_input.path, base, cat.suffixes())
        for path in paths:
            concrete = evolve(record_input, path=path)
            source = cat.source_for(concrete)
            if path is not None and not path.is_file():
                raise ConfigError(f"{path}: not a file")
            entry = concrete.where or f"records {path or source.name}"
            options = source_options(source, {**plugin_options.get(source.name, {}), **concrete.options}, path, entry)
            if path is not None:
                read_with = seen.setdefault((os.path.realpath(path), source.name), [])
                if options in read_with:  # a file named twice is read once
                    continue
                read_with.append(options)
            bind = getattr(options, "bind", None)
            if bind is not None:  # a table source learns the fields of its record kind
                found = bind(cat.kinds)
                if found:
                    field_path, msg = found[0]
                    raise ConfigError(f"{entry} (source {source.name}) {field_path}: {msg}")
            located = getattr(options, "location", None)
            lines = source.lines is not None and not decoded
            out.append(Input(source=source.name, plugin=cat.origins.get(("source", source.name), "?"),
                             where=located(path) if located is not None else str(path) if path is not None
                             else source.name,
                             read=functools.partial(source.lines if lines else source.read, path, options),
                             path=path, lines=lines))
    return out


def source_options(source: RecordSource, options: dict, path: Path | None, where: str):
    """The options *source* reads: the dict, or its declared options class structured from it
    (a problem is one line naming the entry, the source and the field path)."""
    if source.options is None:
        return options
    try:
        structured = structure(options, source.options)
    except StructureError as exc:
        field_path, msg = exc.problems[0]
        raise ConfigError(f"{where} (source {source.name}) {field_path}: {msg}") from None
    check = getattr(structured, "problems", None)
    found = check(path) if check is not None else []
    if found:
        field_path, msg = found[0]
        raise ConfigError(f"{where} (source {source.name}) {field_path}: {msg}")
    return structured


def _lazy(read) -> Iterator[RawRecord]:
    """The stream *read()* opens, opened only when it is first iterated (so that what a source
    raises on opening is that input's failure, not the run's)."""
    yield from read()


SMALL_INPUT_MB = 16
"""Below this much record data, one process audits faster than several (starting them costs more)."""


def default_jobs(inputs: list[Input]) -> int:
    """One process per core when the record files are large, else one; one where processes
    cannot be forked."""
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    size = 0
    for item in inputs:
        if item.path is not None:
            try:
                size += os.path.getsize(item.path)
            except OSError:  # reading it will say what is wrong
                pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return cores if size >= SMALL_INPUT_MB * 1_000_000 else 1


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
    waivers: list | None = None,
    baseline: set[str] | None = None,
    jobs: int | None = 1,
    cluster: tuple[str, Callable[[], RunSetup]] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[AuditResult, dict[str, ContractView]]:
    """Audit *inputs* against *contracts*; *wrap_streams* (list of streams -> list of streams)
    may watch or filter what each input delivers (decoded records; one process). *waivers* (``(waiver, where)`` pairs) mark the
    findings they match; with *baseline* (fingerprints), findings it knows are left out. *jobs*
    above 1 shares the contracts out to that many processes (see :mod:`cso_policy.core.shares`);
    None: :func:`default_jobs`. *cluster* is ``(scheduler address, prepare)``: the audit runs on
    that Dask cluster, whose workers call ``prepare()`` to set up the same run (see
    :mod:`cso_policy.core.cluster`). *progress* is told ``(bytes, records)`` as they are read."""
    views = build_contracts(contracts, cat.registry(policy_roots))
    # what watches the streams reads decoded records
    sources = record_inputs(cat, inputs, base, plugin_options, decoded=wrap_streams is not None)
    if jobs is None:
        jobs = default_jobs(sources)
    if wrap_streams is not None:
        jobs = 1
        wrapped = wrap_streams([_lazy(i.read) for i in sources])
        sources = [evolve(i, read=functools.partial(iter, stream)) for i, stream in zip(sources, wrapped)]
    start = getattr(progress, "start", None)
    if start is not None:  # the size of what is to be read, when it is files
        start(sum(os.path.getsize(i.path) for i in sources if i.path is not None and os.path.isfile(i.path)) or None)
    rules = rules if rules is not None else cat.rules
    run = RunSetup(cat=cat, views=views, rules=rules, as_of=as_of, options=plugin_options, waivers=waivers,
                   baseline=baseline)
    if cluster is not None:
        from .cluster import audit_on_cluster

        return audit_on_cluster(run, sources, *cluster), views
    if jobs > 1:
        from .shares import audit_in_shares

        return audit_in_shares(run, sources, jobs, progress), views
    waiver_set = run.waiver_set()
    evaluator = run_audit(views, rules, cat.kinds, Ingest(sources, cat.kinds.day, progress=progress), as_of,
                          options=plugin_options,
                          adjust=cat.adjusters(), keep=run.keep(waiver_set), problems=cat.pm.problems)
    sections, failed = cat.report_sections(evaluator.audit)
    evaluator.audit.summary.update(sections)
    for problem in failed:
        evaluator.run_problem(str(problem), problem.plugin)
    return run.finish(evaluator, evaluator.run_problems, waiver_set), views


@define
class RunSetup:
    """What one audit run works with, whether it runs in one process or several."""

    cat: Catalogue
    views: dict[str, ContractView]
    rules: list[Rule]
    as_of: datetime | None
    options: dict | None
    waivers: list | None
    baseline: set[str] | None

    def waiver_set(self):
        if not self.waivers:
            return None
        from ..domains.waivers import WaiverSet

        return WaiverSet(self.waivers, self.views, self.as_of)

    def keep(self, waiver_set):
        """What every finding goes through after the adjust hook: waivers mark it, a baseline
        that knows it leaves it out."""
        known = self.baseline
        if waiver_set is None and known is None:
            return None

        def keep(finding: Finding) -> Finding | None:
            if waiver_set is not None:
                finding = waiver_set.mark(finding)
            if known is not None and finding.fingerprint in known:
                return None
            return finding

        return keep

    def finish(self, evaluator: Evaluator, problems, waiver_set) -> AuditResult:
        """Report the run's problems once each, then the waivers' own findings; close the store."""
        for problem in problems:  # not through the adjust hook: one of them may be about it
            evaluator.emit(PLUGIN_ERROR, Violation(message=problem.message), plugin=problem.plugin, adjust=False)
        if waiver_set is not None:
            selected = {r.id for r in self.rules}
            for finding in waiver_set.findings():
                if finding.rule in selected and (self.baseline is None or finding.fingerprint not in self.baseline):
                    evaluator.findings.add(finding)
        return AuditResult(findings=evaluator.findings.close(), audit=evaluator.audit, rules=self.rules)


def make_report(cat: Catalogue, result: AuditResult, views: dict[str, ContractView], as_of: datetime | None) -> Report:
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
