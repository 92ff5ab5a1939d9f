"""The audit loop: decode, structure, resolve, check, observe, run the rules; then finish.

Records stream through once. Each is structured (cattrs) as the class its registered kind
names, resolved to its contract and package pool, checked against the policy by its kind's
checks, entered in the domains' running state by its kind's observers, and handed to the
rules that read its kind. After the last record every rule's ``finish`` runs. Each finding goes through the
``cso_policy_adjust_finding`` hook and the run's *keep* step (waivers, baseline) into a
:class:`~cso_policy.core.findings.FindingStore`, which gives them back sorted, so the same inputs
give the same report.

A rule that raises on one record (even ``SystemExit``) is a ``plugin.error`` finding for that
record and keeps running for the others, so one record cannot change what is found on the rest
(nor what one process of ``--jobs`` finds against another). What plugins hand back is checked at
this edge: a violation with a wrong field (a message that is not text, an impact that is not a
finite number...) and a wrong finding from the adjust hook are plugin.errors, not a report that
cannot be written; lone surrogates in text become U+FFFD. Problems of the run as a whole (a
``finish`` that raised, an adjust hook that failed, a wrong violation) are collected in
:attr:`Evaluator.run_problems`, once each, for the caller to report.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from datetime import datetime

from attrs import define, evolve

from ..errors import ConfigError
from ..inputs.ingest import CONFLICTING, Ingest, InputCount, Repeat
from ..inputs.sources import BadLine, Incomplete, LeftOut
from ..plugins import describe
from ..policy.registry import PolicyRegistry
from .context import Audit, ContractView, build_view
from .convert import StructureError, record_structurer, short, with_article
from .findings import FindingStore, Findings
from .kinds import KindTable
from .model import Contract, Finding, Impact, Level, Record, Violation
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
            self.run_problem(f"plugin {plugin}: rule {r.id} {where} raised {describe(exc)}", plugin)
            return
        self.emit(
            PLUGIN_ERROR,
            Violation(
                message=f"plugin {plugin}: rule {r.id} {where} raised {describe(exc)} at record "
                f"{record.id} ({record.source}); that record was not checked by it",
                contract=getattr(record, "contract", None),
                source=record.source,
            ),
            plugin=plugin,
        )

    def kind_failed(self, plugin: str, what: str, exc: BaseException, record: Record) -> None:
        """A record kind's observer or policy check raised on *record*: a plugin.error for it."""
        self.emit(
            PLUGIN_ERROR,
            Violation(message=f"plugin {plugin}: the {record.kind} record {what} raised {describe(exc)} at record "
                      f"{record.id} ({record.source})", contract=record.contract, source=record.source),
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

    def violation(self, r: Rule, v: object, view: ContractView | None = None) -> None:
        """What rule *r* yielded: a finding; a violation with a wrong field is left out and is one
        plugin.error (for the run) naming the plugin, the rule and the field."""
        if r.plugin is None and type(v) is Violation:  # a built-in rule: its tests check its fields
            self.emit(r.id, v, view)
            return
        if not isinstance(v, Violation):
            problem = f"yielded {_got(v)}, not a Violation"
        else:
            why = _violation_problem(v)
            if why is None:
                finding = self.finding(r.id, v, view)
                if finding is None:
                    return
                why = finding_problem(finding)  # what came from its record (a lob, a source)
                if why is None:
                    self.add(finding)
                    return
            name, expected, value = why
            problem = f"a violation's {name} must be {expected}, got {_got(value)}"
        plugin = r.plugin or "cso_policy"
        self.run_problem(f"plugin {plugin}: rule {r.id}: {problem}; it was left out", plugin)

    def emit(self, rule_id: str, v: Violation, view: ContractView | None = None, plugin: str | None = None,
             adjust: bool = True) -> None:
        """Turn a violation of *rule_id* into a finding (*plugin*: the plugin a plugin.error is
        about; *adjust*: through the adjust hook, as every finding but those about the run)."""
        finding = self.finding(rule_id, v, view, plugin)
        if finding is not None:
            self.add(finding, adjust)

    def finding(self, rule_id: str, v: Violation, view: ContractView | None = None,
                plugin: str | None = None) -> Finding | None:
        """The finding of a violation of *rule_id*, its text made plain (no lone surrogates);
        None when the rule does not run."""
        rule = self.by_id.get(rule_id)
        if rule is None:  # input.* deselected with --ignore
            return None
        record = v.record
        contract = v.contract or (view.id if view else getattr(record, "contract", None))
        if view is None and contract is not None:
            view = self.audit.contracts.get(contract)
        return plain_text(
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
            )
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
            except (Exception, SystemExit) as exc:  # a plugin's sys.exit is its bug, not the run's end
                self.run_problem(f"plugin {plugin}: cso_policy_adjust_finding raised {describe(exc)}; "
                                 "the findings it was given are reported unchanged", plugin)
                return finding
            if result is None:
                continue
            if result is True:
                return finding
            if result is False:
                return None
            if isinstance(result, Finding):
                why = finding_problem(result)
                if why is None:
                    return plain_text(result)
                name, expected, value = why
                self.run_problem(f"plugin {plugin}: cso_policy_adjust_finding returned a Finding with {name} "
                                 f"{_got(value)}, not {expected}; the findings it was given are reported unchanged",
                                 plugin)
                return finding
            self.run_problem(f"plugin {plugin}: cso_policy_adjust_finding returned {short(result)}, not a Finding, "
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
            if entry.checks and not self.valid_for_policy(record, view, entry):
                count.invalid += 1
                continue
            count.counted += 1
            for number, observe in enumerate(entry.observers):
                try:
                    observe(record, view, pool)
                except (Exception, SystemExit) as exc:  # a plugin's observer: that record, not the run
                    self.kind_failed(entry.observer_plugins[number], "observer", exc, record)
            for gate, rules in self.by_kind.get(record.kind, ()):
                if gate is not None:
                    try:
                        if not gate(record, view, pool, audit):
                            continue
                    except (Exception, SystemExit) as exc:  # the gate's rules cannot run on this record
                        for r in rules:
                            self.rule_failed(r, "gate", exc, record)
                        continue
                for r in rules:
                    try:
                        found = r.check(record, view, pool, audit)
                        if found:
                            for v in found:
                                self.violation(r, v, view)
                    except (Exception, SystemExit) as exc:  # a rule's bug (even sys.exit) is reported, not a crash
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
            self.input_problem(file, line, [("$", f"expected an object, got {short(obj)}")])

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

    def valid_for_policy(self, record: Record, view: ContractView, entry) -> bool:
        """Run the kind's policy checks; the first problem is an input.invalid_record (a check
        that raises, a plugin.error: the record is not audited)."""
        for number, check in enumerate(entry.checks):
            try:
                problem = check(record, view)
                if problem is not None:
                    if not (isinstance(problem, tuple) and len(problem) == 2 and all(type(p) is str for p in problem)):
                        raise TypeError(f"a check returns None or (path, message) as text, got {short(problem)}")
                    path, msg = problem
            except (Exception, SystemExit) as exc:
                self.kind_failed(entry.check_plugins[number], "check", exc, record)
                return False
            if problem is not None:
                self.emit(INVALID, Violation(message=f"{record.source} {path}: {msg}", record=record), view)
                return False
        return True

    def finish(self) -> None:
        """Run every rule's ``finish``."""
        for r in self.rules:
            if r.finish is not None:
                try:
                    for v in r.finish(self.audit) or ():
                        self.violation(r, v)
                except (Exception, SystemExit) as exc:
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


_TEXT_OR_NONE = ("contract", "lob", "period", "clause", "source")
_FINDING_TEXT = ("message", "clause")
_FINDING_TEXT_OR_NONE = ("contract", "lob", "record", "source", "period", "policy", "plugin")
_IMPACT_NUMBERS = ("hours", "amount", "duration_seconds")
_WAIVER_TEXT = ("reason", "approved_by", "expires")
_SURROGATES = re.compile("[\ud800-\udfff]")
_INT64 = 2 ** 63

Problem = tuple[str, str, object]
"""What is wrong with a field: its name, what it must be, the value it has."""


def _got(value: object) -> str:
    """A value for a message, the same on every run: a plain value as written, anything else by its type."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return short(value)
    return with_article(type(value).__name__)


def _finite(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


def _impact_problem(impact: object) -> Problem | None:
    if impact is None:
        return None
    if not isinstance(impact, Impact):
        return "impact", "an Impact or None", impact
    for name in _IMPACT_NUMBERS:
        value = getattr(impact, name)
        if value is not None and not _finite(value):
            return f"impact.{name}", "a finite number or None", value
    if impact.currency is not None and not isinstance(impact.currency, str):
        return "impact.currency", "text or None", impact.currency
    return None


def _violation_problem(v: Violation) -> Problem | None:
    """The first field of *v* that is not what a Violation documents, or None."""
    if not isinstance(v.message, str):
        return "message", "text", v.message
    for name in _TEXT_OR_NONE:
        value = getattr(v, name)
        if value is not None and not isinstance(value, str):
            return name, "text or None", value
    if v.level is not None and not isinstance(v.level, Level):
        return "level", "a Level or None", v.level
    record = v.record
    if record is not None and not (isinstance(record, Record) and isinstance(record.id, str)
                                   and isinstance(getattr(record, "contract", None), str)):
        return "record", "a Record (with a text id and contract) or None", record
    return _impact_problem(v.impact)


def finding_problem(f: Finding) -> Problem | None:
    """The first field of *f* that a report could not write, or None."""
    if not isinstance(f.rule, str) or not f.rule:
        return "rule", "a non-empty text", f.rule
    if not isinstance(f.level, Level):
        return "level", "a Level", f.level
    for name in _FINDING_TEXT:
        value = getattr(f, name)
        if not isinstance(value, str):
            return name, "text", value
    for name in _FINDING_TEXT_OR_NONE:
        value = getattr(f, name)
        if value is not None and not isinstance(value, str):
            return name, "text or None", value
    waiver = f.waiver
    if waiver is not None and not (isinstance(waiver, dict) and all(isinstance(k, str) for k in waiver)
                                   and all(isinstance(waiver.get(k), str) for k in _WAIVER_TEXT)):
        return "waiver", "None or a dict of reason, approved_by and expires", waiver
    return _impact_problem(f.impact)


def _plain(text):
    if not isinstance(text, str):  # not text: finding_problem names it
        return text
    if type(text) is not str:  # a str subclass: its own methods are not ours to run
        text = str.__str__(text)
    return _SURROGATES.sub("\ufffd", text) if not text.isascii() and _SURROGATES.search(text) else text


def _number(value):
    if type(value) is float or (type(value) is int and -_INT64 <= value < _INT64) or not _finite(value):
        return value
    return float(value)  # a subclass (numpy's float64), or an int too large for a 64-bit integer


def _plain_impact(impact: Impact) -> bool:
    """The common case, at once: an Impact of floats and ASCII text."""
    hours, amount, seconds, currency = impact.hours, impact.amount, impact.duration_seconds, impact.currency
    return (type(impact) is Impact and (hours is None or type(hours) is float)
            and (amount is None or type(amount) is float) and (seconds is None or type(seconds) is float)
            and (currency is None or (type(currency) is str and currency.isascii())))


def plain_text(f: Finding) -> Finding:
    """*f* as every report can write it: lone surrogates in its text replaced by U+FFFD (UTF-8 has
    no way to write them), impact numbers as plain ints and floats. Fields of a wrong type are left
    as they are, for :func:`finding_problem` to name."""
    changes = {}
    for name in ("message", "contract", "lob", "record", "source", "period", "clause", "policy", "plugin"):
        value = getattr(f, name)
        if value is not None and (type(value) is not str or not value.isascii()):
            clean = _plain(value)
            if clean is not value:
                changes[name] = clean
    impact = f.impact
    if impact is not None and not _plain_impact(impact):
        values = {n: getattr(impact, n) for n in (*_IMPACT_NUMBERS, "currency")}
        clean = {n: None if x is None else _plain(x) if n == "currency" else _number(x) for n, x in values.items()}
        if type(impact) is not Impact or any(clean[n] is not values[n] for n in values):
            changes["impact"] = Impact(**clean)
    return evolve(f, **changes) if changes else f


def _identified(obj) -> bool:
    return type(obj) is dict and all(type(obj.get(k)) is str for k in ("kind", "id", "contract"))
