"""Explaining findings for a person: rule -> clause text -> the contract terms that applied ->
what contributed (the rule says, through its ``explain``) -> the computed amount."""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Callable, Iterable, Iterator
from typing import TextIO

from attrs import define

from ..errors import UsageError
from ..inputs.ingest import Ingest, Input
from .context import ContractView
from .convert import StructureError, record_structurer
from .model import Finding, Record
from .pipeline import Catalogue
from .rule import Rule


@define
class ExplainContext:
    """What a rule's ``explain(finding, context)`` can read: the contracts of the run
    (``views``), the rules (``rules``) and the run's records again (:meth:`records`)."""

    catalogue: Catalogue
    views: dict[str, ContractView]
    inputs: Callable[[], list[Input]]

    @property
    def rules(self) -> dict[str, Rule]:
        return {r.id: r for r in self.catalogue.rules}

    def records(self, kind: str | None = None, contract: str | None = None) -> Iterator[Record]:
        """The run's records as the audit saw them: in date order (ties by id), each identity
        once, only those that structure cleanly; only those of *kind* and *contract* when given."""
        structure = record_structurer({name: e.kind.cls for name, e in self.catalogue.kinds.items()})
        for _, _, obj, _ in Ingest(self.inputs(), self.catalogue.kinds.day).records():
            if type(obj) is not dict:  # a line that could not be read, a repeat, one left out
                continue
            if (kind is not None and obj.get("kind") != kind) or (contract is not None and obj.get("contract") != contract):
                continue
            try:
                yield structure(obj)
            except StructureError:
                continue

    def record_ids(self) -> set[str]:
        """The ids of every record the run read (those that did not structure cleanly too)."""
        ids = set()
        for _, _, obj, _ in Ingest(self.inputs(), self.catalogue.kinds.day).records():
            if type(obj) is dict and isinstance(obj.get("id"), str):
                ids.add(obj["id"])
        return ids


def matching(findings: Iterable[Finding], target: str) -> list[Finding]:
    """Findings whose rule matches *target* (an id or glob) or whose record id is *target*."""
    return [f for f in findings if fnmatch.fnmatchcase(f.rule, target) or f.record == target]


def matching_rules(rules: Iterable[Rule], target: str) -> list[Rule]:
    """Rules whose id matches *target* (an id or glob)."""
    return [r for r in rules if fnmatch.fnmatchcase(r.id, target)]


def did_you_mean(target: str, choices: Iterable[str]) -> str:
    """``; did you mean 'x'?`` for the closest of *choices* (case-insensitively), or ""."""
    by_lower = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(target.lower(), list(by_lower), n=1, cutoff=0.6)
    return f"; did you mean {by_lower[close[0]]!r}?" if close else ""


def _terms(context: ExplainContext, view: ContractView, pool) -> list[str]:
    c = view.contract
    lines = [f"contract {c.id} ({c.customer}), {view.policy_ref}, term {c.term.start}..{c.term.end}, time zone {c.timezone}"]
    return lines + context.catalogue.explain_terms(view, pool)


def explain(findings: list[Finding], context: ExplainContext, stream: TextIO) -> None:
    """Write an explanation of each finding."""
    w = stream.write
    rules = context.rules
    for f in findings:
        rule = rules.get(f.rule)
        view = context.views.get(f.contract) if f.contract else None
        w(f"{f.rule} ({f.level})" + (f": {rule.title}" if rule else "") + "\n")
        if rule and rule.description:
            w(f"  what it checks: {' '.join(rule.description.split())}\n")
        w(f"  clause: {f.clause} of {f.policy or 'the terms'}\n")
        if view is not None:
            for ref, text in view.policy.clause_text(f.clause):
                w(f"    {ref}: \"{' '.join(text.split())}\"\n")
        pool = view.by_lob.get(f.lob) if view is not None and f.lob else None
        if view is not None:
            w("  terms that applied:\n")
            for line in _terms(context, view, pool):
                w(f"    {line}\n")
        w(f"  finding: {f.record or '-'} at {f.source or '-'}: {f.message}\n")
        if f.waived:
            w(f"  waived: {f.waiver['reason']} (approved by {f.waiver['approved_by']}, until {f.waiver['expires']})\n")
        if rule is not None and rule.explain is not None:
            for line in rule.explain(f, context):
                w(f"{line}\n")
        if f.impact is not None and f.impact.text():
            w(f"  impact: {f.impact.text()}\n")
        w("\n")


def explain_rules(rules: list[Rule], context: ExplainContext, stream: TextIO) -> None:
    """Explain rules that gave no finding in this run: what each checks, its clause (quoted
    from every policy of the run's contracts) and the terms of each contract that apply."""
    w = stream.write
    views = list(context.views.values())
    for rule in rules:
        w(f"{rule.id} ({rule.level}): {rule.title}\n")
        if rule.description:
            w(f"  what it checks: {' '.join(rule.description.split())}\n")
        policies = {}
        for view in views:
            policies.setdefault(view.policy_ref, view.policy)
        w(f"  clause: {rule.clause} of {', '.join(policies) or 'the terms'}\n")
        quoted = set()
        for policy in policies.values():
            for ref, text in policy.clause_text(rule.clause):
                text = ' '.join(text.split())
                if (ref, text) not in quoted:
                    quoted.add((ref, text))
                    w(f"    {ref}: \"{text}\"\n")
        if views:
            w("  terms that apply:\n")
        for view in views:
            seen = _terms(context, view, None)  # the contract's own terms, then each package's
            for pool in view.pools.values():
                seen += [line for line in context.catalogue.explain_terms(view, pool) if line not in seen]
            for line in seen:
                w(f"    {line}\n")
        w("  no finding of this rule in this run\n\n")


def explain_target(findings: Iterable[Finding], context: ExplainContext, target: str, stream: TextIO) -> None:
    """``explain RULE-OR-RECORD``: the findings of a rule (id or glob) or record; a rule without
    findings from its clause and terms; a record of the run without findings said to have none.
    A target that is neither raises :class:`~cso_policy.errors.UsageError` with a did-you-mean."""
    found = matching(findings, target)
    if found:
        explain(found, context, stream)
        return
    rules = matching_rules(context.catalogue.rules, target)
    if rules:
        explain_rules(rules, context, stream)
        return
    records = context.record_ids()
    if target in records:
        stream.write(f"no finding matches {target!r}\n")
        return
    hint = did_you_mean(target, [r.id for r in context.catalogue.rules]) or did_you_mean(target, records)
    raise UsageError(f"{target!r} matches no rule id (or glob) and no record id of this run{hint} "
                     "(see `cso-policy rules`)")
