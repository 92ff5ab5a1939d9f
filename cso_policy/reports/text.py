"""The text report: for a person, grouped by contract, then totals."""

from __future__ import annotations

from typing import TextIO

from ..core.model import Finding
from ..markers import hookimpl
from . import Report, ReportFormat


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


FORMAT = ReportFormat(name="text", write=write_text, extension="txt", description="for a person, grouped by contract")


@hookimpl
def cso_policy_report_formats():
    return [FORMAT]
