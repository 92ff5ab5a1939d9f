"""`cso-policy explain`: rule -> clause text -> the contract terms that applied -> the
contributing records -> the computed amount, for a person."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Iterator
from typing import TextIO

from .context import ContractView, Pool
from .convert import StructureError, structure_record
from .evaluator import BadLine, RawRecord
from .ledger import counts_toward_caps
from .model import Finding, Work
from .rule import Rule

HOUR_RULES = ("entitlement.quarterly_hours", "entitlement.annual_hours", "billing.overage_unbilled",
              "billing.overage_overbilled", "billing.overage_without_agreement", "entitlement.allowance_hours")


def matching(findings: Iterable[Finding], target: str) -> list[Finding]:
    """Findings whose rule matches *target* (an id or glob) or whose record id is *target*."""
    return [f for f in findings if fnmatch.fnmatchcase(f.rule, target) or f.record == target]


def _terms(view: ContractView, pool: Pool | None) -> list[str]:
    c = view.contract
    lines = [f"contract {c.id} ({c.customer}), {view.policy_ref}, term {c.term.start}..{c.term.end}, time zone {c.timezone}"]
    if pool is not None:
        lines.append(f"package {pool.id}: {pool.tier}, shared by {', '.join(pool.lobs)}; "
                     f"{pool.quarterly_cap:g} h per contract quarter, {pool.annual_cap:g} h per contract year (Section 1)")
    if c.overage is not None and c.overage.agreed:
        lines.append(f"overage rate {c.overage.currency} {c.overage.rate:,.2f}/h agreed in {c.overage.agreement}")
    else:
        lines.append("no overage rate agreed in writing")
    return lines


def _work_in_period(stream: Iterator[RawRecord], view: ContractView, pool: Pool, period: str | None,
                    service_filter=None) -> list[Work]:
    parsed = view.calendar.parse_label(period) if period else None
    out = []
    for _, _, obj in stream:
        if type(obj) is BadLine or not isinstance(obj, dict) or obj.get("kind") != "work":
            continue
        if obj.get("contract") != view.id or obj.get("lob") not in pool.lobs:
            continue
        try:
            record = structure_record(dict(obj))
        except StructureError:
            continue
        if not view.calendar.in_term(record.date) or not counts_toward_caps(pool, record):
            continue
        if service_filter is not None and not service_filter(record):
            continue
        if parsed is not None:
            kind, index = parsed
            if view.calendar.periods(record.date).index(kind) != index:
                continue
        out.append(record)
    return out


def explain(findings: list[Finding], rules: dict[str, Rule], views: dict[str, ContractView],
            restream, stream: TextIO) -> None:
    """Write an explanation of each finding; *restream()* yields the record streams again."""
    w = stream.write
    for f in findings:
        rule = rules.get(f.rule)
        view = views.get(f.contract) if f.contract else None
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
            for line in _terms(view, pool):
                w(f"    {line}\n")
        w(f"  finding: {f.record or '-'} at {f.source or '-'}: {f.message}\n")
        if f.waived:
            w(f"  waived: {f.waiver['reason']} (approved by {f.waiver['approved_by']}, until {f.waiver['expires']})\n")
        if view is not None and pool is not None and f.rule in HOUR_RULES:
            _explain_hours(f, view, pool, restream, w)
        if f.impact is not None and f.impact.text():
            w(f"  impact: {f.impact.text()}\n")
        w("\n")


def _explain_hours(f: Finding, view: ContractView, pool: Pool, restream, w) -> None:
    period = f.period
    service_filter = None
    cap = None
    if f.rule == "entitlement.allowance_hours":
        terms = view.policy.entitlement
        allowance = next((a for name, a in terms.allowances.items() if a.name in f.message), None)
        if allowance is not None:
            members = {i for i, item in terms.items.items() if item.allowance and terms.allowances[item.allowance] is allowance}
            service_filter = lambda r: r.service in members  # noqa: E731
            cap = allowance.hours.get(pool.tier)
    elif period and "Q" in period:
        cap = pool.quarterly_cap
    else:
        cap = pool.annual_cap
    records = [r for s in restream() for r in _work_in_period(s, view, pool, period, service_filter)]
    w(f"  contributing work records ({pool.id}, {period or 'all periods'}), in the order read:\n")
    total = 0.0
    crossed = False
    for r in records:
        total += r.hours
        mark = ""
        if cap is not None and not crossed and total - cap > 1e-9:
            crossed, mark = True, f"  <- crossed {cap:g} h"
        w(f"    {r.date}  {r.id:<12} {r.lob:<12} {r.service:<36} {r.hours:>6g} h  running {total:>8g} h{mark}\n")
    if cap is not None:
        over = max(0.0, total - cap)
        line = f"  computed: {total:g} h - {cap:g} h = {over:g} h over"
        if view.contract.overage is not None and view.contract.overage.agreed:
            o = view.contract.overage
            line += f"; x {o.currency} {o.rate:,.2f}/h = {o.currency} {over * o.rate:,.2f}"
        w(line + "\n")
