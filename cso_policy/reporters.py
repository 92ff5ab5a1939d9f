"""Report formats: text for a person, json for machines. More come from plugins."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import TextIO

from attrs import define, field, frozen

from . import __version__, hookimpl
from .model import Finding, Level
from .rule import Rule


@define
class Report:
    findings: list[Finding]
    rules: list[Rule]
    records: int = 0
    records_by_kind: dict[str, int] = field(factory=dict)
    contracts: list[str] = field(factory=list)
    policies: list[str] = field(factory=list)
    as_of: datetime | None = None
    sections: dict = field(factory=dict)  # extra summary sections from rules (Audit.summary)

    def summary(self) -> dict:
        by_level = {str(level): 0 for level in sorted(Level, reverse=True)}
        by_rule: dict[str, dict] = {}
        by_contract: dict[str, int] = defaultdict(int)
        waived = 0
        for f in self.findings:
            if f.waived:  # counted, never failing
                waived += 1
                continue
            by_level[str(f.level)] += 1
            by_contract[f.contract or "-"] += 1
            entry = by_rule.setdefault(f.rule, {"count": 0, "hours": 0.0, "amounts": {}})
            entry["count"] += 1
            if f.impact is not None:
                if f.impact.hours is not None:
                    entry["hours"] += f.impact.hours
                if f.impact.amount is not None:
                    amounts = entry["amounts"]
                    amounts[f.impact.currency] = amounts.get(f.impact.currency, 0.0) + f.impact.amount
        for entry in by_rule.values():
            entry["hours"] = round(entry["hours"], 4)
            entry["amounts"] = {c: round(a, 2) for c, a in sorted(entry["amounts"].items())}
        return {
            "records": self.records,
            "records_by_kind": dict(sorted(self.records_by_kind.items())),
            "contracts": len(self.contracts),
            "findings": len(self.findings) - waived,
            "waived": waived,
            "by_level": by_level,
            "by_rule": dict(sorted(by_rule.items())),
            "by_contract": dict(sorted(by_contract.items())),
            **{key: self.sections[key] for key in sorted(self.sections)},
        }


@frozen(kw_only=True)
class ReportFormat:
    name: str
    write: Callable[[Report, TextIO], None]
    description: str = ""


def write_json(report: Report, stream: TextIO) -> None:
    """Byte-identical for the same inputs: fixed key order, no clock, no host data."""
    document = {
        "findings": [f.as_dict() for f in report.findings],
        "summary": report.summary(),
        "as_of": report.as_of.isoformat() if report.as_of else None,
        "policies": report.policies,
        "tool": {"name": "cso-policy", "version": __version__},
    }
    stream.write(json.dumps(document, indent=2, ensure_ascii=False))
    stream.write("\n")


def _impact_text(f: Finding) -> str:
    text = f.impact.text(fixed=True) if f.impact is not None else ""
    return f" [{text}]" if text else ""


def write_text(report: Report, stream: TextIO) -> None:
    """Grouped by contract, one line per finding, then totals."""
    current = object()
    for f in report.findings:
        if f.contract != current:
            current = f.contract
            stream.write(f"\n{f.contract or '(no contract)'}\n")
        where = f.source or "-"
        level = f"{f.level} (waived: {f.waiver['reason']})" if f.waived else str(f.level)
        stream.write(f"  {where}: {level}: {f.rule} [{f.clause}] {f.record or '-'}: {f.message}{_impact_text(f)}\n")
    summary = report.summary()
    levels = ", ".join(f"{n} {level}" for level, n in summary["by_level"].items())
    stream.write(
        f"\n{summary['findings']} finding(s) ({levels}) in {summary['records']} record(s) "
        f"over {summary['contracts']} contract(s)\n"
    )
    for rule_id, entry in summary["by_rule"].items():
        money = ", ".join(f"{c} {a:,.2f}" for c, a in entry["amounts"].items())
        hours = f", {entry['hours']:,.2f} h" if entry["hours"] else ""
        stream.write(f"  {rule_id}: {entry['count']}{hours}{', ' + money if money else ''}\n")
    if summary.get("waived"):
        stream.write(f"  waived: {summary['waived']}\n")
    attainment = [row for row in summary.get("sla_attainment", ()) if row.get("measured")]
    if attainment:
        stream.write("\nSLA attainment (tickets measured, met, breached)\n")
        for row in attainment:
            stream.write(
                f"  {row['contract']} {row['tier']} {row['severity']}: {row['measured']} measured, "
                f"{row['met']} met, {row['breached']} breached ({row['percent_met']:g}% met)\n"
            )


BUILTIN_FORMATS = (
    ReportFormat(name="text", write=write_text, description="for a person, grouped by contract"),
    ReportFormat(name="json", write=write_json, description="findings and summary (SPEC §3)"),
)


@hookimpl
def cso_policy_report_formats():
    return BUILTIN_FORMATS
