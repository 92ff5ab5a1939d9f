"""The audit loop: decode, structure, resolve, check, observe, run the rules; then finish.

Records stream through once. Each is structured (cattrs) as the class its registered kind
names, resolved to its contract and package pool, checked against the policy by its kind's
checks, entered in the domains' running state by its kind's observers, and handed to the
rules that read its kind. After the last record every rule's ``finish`` runs. Each finding goes through the
``cso_policy_adjust_finding`` hook and the run's *keep* step (waivers, baseline) into a
:class:`~cso_policy.core.findings.FindingStore`, which gives them back sorted, so the same inputs
give the same report.

A rule that raises on one record is a ``plugin.error`` finding for that record and keeps
running for the others, so one record cannot change what is found on the rest (nor what one
process of ``--jobs`` finds against another). Problems of the run as a whole (a ``finish``
that raised, an adjust hook that failed) are collected in :attr:`Evaluator.run_problems`, once
each, for the caller to report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from attrs import define

from ..errors import ConfigError
from ..inputs.ingest import CONFLICTING, Ingest, InputCount, Repeat
from ..inputs.sources import BadLine, Incomplete, LeftOut
from ..policy.registry import PolicyRegistry
from .context import Audit, ContractView, build_view
from .convert import StructureError, _short, record_structurer
from .findings import FindingStore, Findings
from .kinds import KindTable
from .model import Contract, Finding, Record, Violation
from .rule import Gate, Rule

INVALID = "input.invalid_record"
UNKNOWN = "input.unknown_reference"
INCOMPLETE = "input.incomplete_record"
DUPLICATE = "input.duplicate_record"
CONFLICT = "input.conflicting_record"
PLUGIN_ERROR = "plugin.error"


@define
class AuditResult:
    """A finished audit: its findings in report order, the run, the rules that ran."""

    findings: Findings
    audit: Audit
    rules: list[Rule]


Adjuster = tuple[str, Callable, tuple[str, ...]]
"""An implementation of ``cso_policy_adjust_finding``: (plugin name, function, its argument names)."""


@define(frozen=True)
class RunProblem:
    """A plugin.error of the run as a whole, reported once: its message and the plugin."""

    message: str
    plugin: str | None


def build_contracts(contracts: Iterable[Contract], registry: PolicyRegistry) -> dict[str, ContractView]:
    views: dict[str, ContractView] = {}
    for contract in contracts:
        if contract.id in views:
            raise ConfigError(
                f"{contract.path}: contract id {contract.id!r} is also defined in {views[contract.id].contract.path}"
            )
        try:
            policy = registry.get(contract.policy)
        except ConfigError as exc:
            raise ConfigError(f"{contract.path or contract.id} $.policy: {exc}") from None
        views[contract.id] = build_view(contract, policy)
    return views


class Evaluator:
    """Runs *rules* over records against *contracts*; one instance per audit."""

    def __init__(
        self,
        contracts: dict[str, ContractView],
        rules: list[Rule],
        kinds: KindTable,
        as_of: datetime | None = None,
        *,
        options: dict | None = None,
        adjust: list[Adjuster] | None = None,
        keep: Callable[[Finding], Finding | None] | None = None,
        store: FindingStore | None = None,
    ):
        self.audit = Audit(contracts=contracts, as_of=as_of, options=options or {})
        self.kinds = kinds
        self.structure = record_structurer({name: entry.kind.cls for name, entry in kinds.items()})
        self.rules = list(rules)
        self.by_id = {r.id: r for r in rules}
        self.adjust = adjust or None
        self.keep = keep
        self.by_kind = self._index(self.rules)
        self.findings = store if store is not None else FindingStore()
        self.run_problems: list[RunProblem] = []

    @staticmethod
    def _index(rules: list[Rule]) -> dict[str, tuple[tuple[Gate | None, tuple[Rule, ...]], ...]]:
        """kind -> (gate, rules) groups: the ungated rules, then the rules of each gate."""
        by_kind: dict[str, dict[Gate | None, list[Rule]]] = {}
        for r in rules:
            for kind in r.kinds:
                groups = by_kind.setdefault(kind, {None: []})
                groups.setdefault(r.gate, []).append(r)
        return {
            kind: tuple((gate, tuple(rs)) for gate, rs in groups.items() if rs) for kind, groups in by_kind.items()
        }

    def rule_failed(self, r: Rule, where: str, exc: BaseException, record: Record | None = None) -> None:
        """A rule raised: a plugin.error for that record (or, from ``finish``, once for the run);
        the rule runs on for the other records."""
        plugin = r.plugin or "cso_policy"
        if record is None:
            self.run_problem(f"plugin {plugin}: rule {r.id} {where} raised {type(exc).__name__}: {exc}", plugin)
            return
        self.emit(
            PLUGIN_ERROR,
            Violation(
                message=f"plugin {plugin}: rule {r.id} {where} raised {type(exc).__name__}: {exc} at record "
                f"{record.id} ({record.source}); that record was not checked by it",
                contract=getattr(record, "contract", None),
                source=record.source,
            ),
            plugin=plugin,
        )

    def run_problem(self, message: str, plugin: str | None) -> None:
        problem = RunProblem(message, plugin)
        if problem not in self.run_problems:
            self.run_problems.append(problem)

    def plugin_problem(self, plugin: str, hook: str, error: str) -> None:
        self.emit(PLUGIN_ERROR, Violation(message=f"plugin {plugin}: {hook} failed: {error}"), plugin=plugin)

    def source_failed(self, failure) -> None:
        """A record source raised mid-stream: its own unread records are lost, and said so."""
        self.emit(PLUGIN_ERROR, Violation(message=str(failure), source=failure.where), plugin=failure.plugin)

    # -- findings -------------------------------------------------------------------

    def emit(self, rule_id: str, v: Violation, view: ContractView | None = None, plugin: str | None = None,
             adjust: bool = True) -> None:
        """Turn a violation of *rule_id* into a finding (*plugin*: the plugin a plugin.error is
        about; *adjust*: through the adjust hook, as every finding but those about the run)."""
        rule = self.by_id.get(rule_id)
        if rule is None:  # input.* deselected with --ignore
            return
        record = v.record
        contract = v.contract or (view.id if view else getattr(record, "contract", None))
        if view is None and contract is not None:
            view = self.audit.contracts.get(contract)
        self.add(
            Finding(
                rule=rule.id,
                level=v.level or rule.level,
                contract=contract,
                lob=v.lob if v.lob is not None else _lob_of(record, view),
                record=record.id if record is not None else None,
                source=v.source or (record.source if record is not None else None),
                message=v.message,
                clause=v.clause or rule.clause,
                policy=view.policy_ref if view is not None else None,
                impact=v.impact,
                period=v.period,
                plugin=plugin or rule.plugin,
            ),
            adjust,
        )

    def add(self, finding: Finding, adjust: bool = True) -> None:
        """A finding, through the adjust hook and the run's keep step, into the store."""
        if adjust and self.adjust is not None:
            finding = self._adjusted(finding)
            if finding is None:
                return
        if self.keep is not None:
            finding = self.keep(finding)
            if finding is None:
                return
        self.findings.add(finding)

    def _adjusted(self, finding: Finding) -> Finding | None:
        """``cso_policy_adjust_finding`` as pluggy would call it (the last registered first, the
        first answer wins), naming the plugin whose answer is wrong; a wrong answer keeps the finding."""
        for plugin, function, argnames in self.adjust:
            args = {"finding": finding, "audit": self.audit}
            try:
                result = function(**{name: args[name] for name in argnames})
            except Exception as exc:
                self.run_problem(f"plugin {plugin}: cso_policy_adjust_finding raised {type(exc).__name__}: {exc}; "
                                 "the findings it was given are reported unchanged", plugin)
                return finding
            if result is None:
                continue
            if result is True:
                return finding
            if result is False:
                return None
            if isinstance(result, Finding):
                return result
            self.run_problem(f"plugin {plugin}: cso_policy_adjust_finding returned {_short(result)}, not a Finding, "
                             "True, False or None; the findings it was given are reported unchanged", plugin)
            return finding
        return finding

    def input_problem(self, file: str, line: int, problems: list[tuple[str, str]], contract=None) -> None:
        where = f"{file}:{line}" if line else file
        for path, msg in problems:
            self.emit(INVALID, Violation(message=f"{where} {path}: {msg}", contract=contract, source=where))

    # -- the loop -------------------------------------------------------------------

    def feed(self, stream: Iterable[tuple[str, int, object, InputCount]]) -> None:
        """Audit records ``(file, line, obj, count)`` in the order given; *count* is the
        accounting of the input each came from."""
        audit = self.audit
        contracts = audit.contracts
        counts = audit.by_kind
        kinds = self.kinds
        structure_record = self.structure
        for file, line, obj, count in stream:
            audit.records += 1
            if type(obj) is not dict:
                self.not_a_record(file, line, obj, count)
                continue
            contract_id = obj.get("contract")
            try:
                record = structure_record(obj)
            except StructureError as exc:
                count.invalid += 1
                self.input_problem(file, line, exc.problems, contract_id if type(contract_id) is str else None)
                continue
            record.file = file
            record.line = line
            counts[record.kind] += 1
            view = contracts.get(record.contract)
            if view is None:
                count.unresolved += 1
                self.emit(UNKNOWN, Violation(message=f"unknown contract {record.contract!r}", record=record, contract=record.contract))
                continue
            pool = view.pool_for(record)
            if pool is None and not self.resolved_without_pool(record, view):
                count.unresolved += 1
                continue
            entry = kinds[record.kind]
            if entry.checks and not self.valid_for_policy(record, view, entry.checks):
                count.invalid += 1
                continue
            count.counted += 1
            for observe in entry.observers:
                observe(record, view, pool)
            for gate, rules in self.by_kind.get(record.kind, ()):
                if gate is not None:
                    try:
                        if not gate(record, view, pool, audit):
                            continue
                    except Exception as exc:  # the gate's rules cannot run on this record
                        for r in rules:
                            self.rule_failed(r, "gate", exc, record)
                        continue
                for r in rules:
                    try:
                        found = r.check(record, view, pool, audit)
                        if found:
                            for v in found:
                                self.emit(r.id, v, view)
                    except Exception as exc:  # a rule's bug is reported, not a crash
                        self.rule_failed(r, "check", exc, record)

    def not_a_record(self, file: str, line: int, obj, count: InputCount) -> None:
        """What a source gave in place of a record: a line it could not decode, one it left out
        on purpose, a repeat of a record read before, or something else that is not an object."""
        kind = type(obj)
        if kind is BadLine:
            count.invalid += 1
            self.input_problem(file, line, [("$", obj.reason)])
        elif kind is LeftOut:
            count.left_out += 1
            count.left_out_reasons[obj.reason] = count.left_out_reasons.get(obj.reason, 0) + 1
        elif kind is Repeat:
            self.repeat(file, line, obj, count)
        elif kind is Incomplete and _identified(obj.record):
            count.incomplete += 1
            rec = obj.record
            record = Record(id=rec["id"], contract=rec["contract"], file=file, line=line)
            lob = rec.get("lob") if type(rec.get("lob")) is str else None
            self.emit(INCOMPLETE, Violation(record=record, lob=lob, message=(
                f"{record.source} {rec['kind']} {rec['id']}: {obj.reason}; not audited, since any result would be a guess")))
        else:
            count.invalid += 1
            self.input_problem(file, line, [("$", f"expected an object, got {_short(obj)}")])

    def repeat(self, file: str, line: int, repeat: Repeat, count: InputCount) -> None:
        """A record whose contract, kind and id were read before: counted once."""
        obj = repeat.obj
        record = Record(id=obj["id"], contract=obj["contract"], file=file, line=line)
        lob = obj.get("lob") if type(obj.get("lob")) is str else None
        what = f"{obj['kind']} {obj['id']} of contract {obj['contract']}"
        if repeat.how == CONFLICTING:
            count.conflicting += 1
            message = (f"{record.source} has the contract, kind and id of {repeat.first} ({what}) but other "
                       f"content; the first ({repeat.first}) is counted, this one is not")
            self.emit(CONFLICT, Violation(record=record, lob=lob, message=message))
        else:
            count.duplicate += 1
            message = f"{record.source} repeats {repeat.first} ({what}, the same content); counted once"
            self.emit(DUPLICATE, Violation(record=record, lob=lob, message=message))

    def resolved_without_pool(self, record: Record, view: ContractView) -> bool:
        """A record without a pool is fine only if it names no LOB or package (an expense)."""
        lob = getattr(record, "lob", None)
        package = getattr(record, "package", None)
        if lob is None and package is None:
            return True
        what = f"line of business {lob!r}" if lob is not None else f"package {package!r}"
        self.emit(UNKNOWN, Violation(message=f"unknown {what} in contract {view.id}", record=record), view)
        return False

    def valid_for_policy(self, record: Record, view: ContractView, checks) -> bool:
        """Run the kind's policy checks; the first problem is an input.invalid_record."""
        for check in checks:
            problem = check(record, view)
            if problem is not None:
                path, msg = problem
                self.emit(INVALID, Violation(message=f"{record.source} {path}: {msg}", record=record), view)
                return False
        return True

    def finish(self) -> None:
        """Run every rule's ``finish``."""
        for r in self.rules:
            if r.finish is not None:
                try:
                    for v in r.finish(self.audit) or ():
                        self.emit(r.id, v)
                except Exception as exc:
                    self.rule_failed(r, "finish", exc)


def _lob_of(record: Record | None, view: ContractView | None) -> str | None:
    """The record's LOB; for a record naming a package (an expansion scope), the package's
    LOB when it has exactly one."""
    lob = getattr(record, "lob", None)
    if lob is None and view is not None and getattr(record, "package", None) is not None:
        pool = view.pools.get(record.package)
        if pool is not None and len(pool.lobs) == 1:
            return pool.lobs[0]
    return lob


def run_audit(
    contracts: dict[str, ContractView],
    rules: list[Rule],
    kinds: KindTable,
    ingest: Ingest,
    as_of=None,
    *,
    options: dict | None = None,
    adjust: list[Adjuster] | None = None,
    keep: Callable[[Finding], Finding | None] | None = None,
    store: FindingStore | None = None,
    problems: Iterable = (),
) -> Evaluator:
    """Audit what *ingest* reads against *contracts*, finish every rule, and hand back the
    evaluator (its store holds the findings, its ``run_problems`` what is to be reported once).
    *problems* (plugin failures found before the run) and sources that failed mid-stream are
    plugin.error findings; the summary's ``inputs`` section accounts for every record each
    input delivered."""
    evaluator = Evaluator(contracts, rules, kinds, as_of, options=options, adjust=adjust, keep=keep, store=store)
    for problem in problems:
        evaluator.plugin_problem(problem.plugin, problem.hook, problem.error)
    evaluator.feed(ingest.records())
    for failure in ingest.failures:
        evaluator.source_failed(failure)
    evaluator.audit.summary["inputs"] = [c.as_dict() for _, c in sorted(ingest.counts.items())]
    evaluator.finish()
    return evaluator


def _identified(obj) -> bool:
    return type(obj) is dict and all(type(obj.get(k)) is str for k in ("kind", "id", "contract"))
