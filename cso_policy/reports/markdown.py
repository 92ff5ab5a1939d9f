"""Markdown: a summary table and the findings, for a pull request or a wiki."""

from __future__ import annotations

from typing import TextIO

from ..core.model import Finding
from ..markers import hookimpl
from . import Report, ReportFormat


def _md(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _impact(f: Finding) -> str:
    return f.impact.text() if f.impact is not None else ""


def write_markdown(report: Report, stream: TextIO) -> None:
    s = report.summary()
    w = stream.write
    w("# cso-policy audit\n\n")
    w(f"{s['findings']} finding(s) in {s['records']} record(s) over {s['contracts']} contract(s); "
      + ", ".join(f"{n} {lvl}" for lvl, n in s["by_level"].items()) + f"; {s['waived']} waived.\n\n")
    w("| rule | count | hours | amounts |\n| --- | ---: | ---: | --- |\n")
    for rule_id, e in s["by_rule"].items():
        w(f"| {rule_id} | {e['count']} | {e['hours']:g} | {', '.join(f'{c} {a:,.2f}' for c, a in e['amounts'].items())} |\n")
    w("\n## Findings\n\n| level | rule | contract | lob | record | source | impact | message |\n"
      "| --- | --- | --- | --- | --- | --- | --- | --- |\n")
    for f in report.findings:
        level = f"{f.level} (waived)" if f.waived else str(f.level)
        w(f"| {level} | {f.rule} | {_md(f.contract or '')} | {_md(f.lob or '')} | {_md(f.record or '')} | "
          f"{_md(f.source or '')} | {_impact(f)} | {_md(f.message)} |\n")


FORMAT = ReportFormat(name="markdown", write=write_markdown, extension="md", description="summary and findings table")


@hookimpl
def cso_policy_report_formats():
    return [FORMAT]
