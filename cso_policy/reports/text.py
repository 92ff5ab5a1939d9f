"""The text report: for a person, grouped by contract, then totals."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TextIO

from ..core.model import Finding
from ..markers import hookimpl
from . import Report, ReportFormat


def _impact_text(f: Finding) -> str:
    text = f.impact.text(fixed=True) if f.impact is not None else ""
    return f" [{text}]" if text else ""


SHOWN_PLACES = 3  # places named on a folded line of repeated findings


def plain(message: str, source: str | None) -> str:
    """A message for a person: without the place the line already names, and with field paths
    in words (``$.severity`` -> ``field severity``)."""
    if source and message.startswith(source + " "):
        message = message[len(source) + 1:]
    message = _ROOT.sub("", message)
    return _FIELD.sub(lambda m: f"field {m.group(1)}:", message)


_ROOT = re.compile(r"^\$: ")
_FIELD = re.compile(r"\$\.([A-Za-z_][\w.\[\]]*):")


def _folded(findings) -> Iterator[tuple[object, list[str], list[str], int]]:
    """Findings in order, each run of the same problem of one contract (rule, level, message,
    impact, waiver) as one: the first finding, the places and records of the first few, how many."""
    first, places, records, count, key = None, [], [], 0, None
    for f in findings:
        this = (f.contract, f.rule, f.level, plain(f.message, f.source), f.impact, (f.waiver or {}).get("reason"))
        if first is not None and this == key:
            count += 1
            if len(places) < SHOWN_PLACES:
                places.append(f.source or "-")
                records.append(f.record or "-")
            continue
        if first is not None:
            yield first, places, records, count
        first, places, records, count, key = f, [f.source or "-"], [f.record or "-"], 1, this
    if first is not None:
        yield first, places, records, count


def _some(items: list[str], count: int) -> str:
    return ", ".join(items) + (f" and {count - len(items)} more" if count > len(items) else "")


def write_text(report: Report, stream: TextIO) -> None:
    """Grouped by contract, one line per finding (repeats of one problem without a record on one
    line with a count), then totals."""
    current = object()
    started = False
    for f, places, records, count in _folded(report.findings):
        if f.contract != current:
            current = f.contract
            stream.write(f"{chr(10) if started else ''}{f.contract or '(no contract)'}\n")
            started = True
        level = f"{f.level} (waived: {f.waiver['reason']})" if f.waived else str(f.level)
        times = f" ({count} times{', each' if f.impact is not None else ''})" if count > 1 else ""
        stream.write(f"  {_some(places, count)}: {level}: {f.rule} [{f.clause}] {_some(records, count)}: "
                     f"{plain(f.message, f.source)}{_impact_text(f)}{times}\n")
    if started:
        stream.write("\n")
    write_summary(report, stream)


def write_summary(report: Report, stream: TextIO) -> None:
    """The totals: findings by level, then per rule with hours and money, waived, SLA attainment."""
    summary = report.summary()
    levels = ", ".join(f"{n} {level}" for level, n in summary["by_level"].items())
    stream.write(
        f"{summary['findings']} finding(s) ({levels}) in {summary['records']} record(s) "
        f"over {summary['contracts']} contract(s)\n"
    )
    for rule_id, entry in summary["by_rule"].items():
        money = ", ".join(f"{c} {a:,.2f}" for c, a in entry["amounts"].items())
        hours = f", {entry['hours']:,.2f} h" if entry["hours"] else ""
        stream.write(f"  {rule_id}: {entry['count']}{hours}{', ' + money if money else ''}\n")
    if summary.get("waived"):
        stream.write(f"  waived: {summary['waived']}\n")
    rows = summary.get("sla_attainment")
    # a section is any JSON a plugin gave: rows that are not the SLA domain's are not shown
    attainment = [row for row in rows if isinstance(row, dict) and row.get("measured")] if isinstance(rows, list) else []
    if attainment:
        stream.write("\nSLA attainment (tickets measured, met, breached)\n")
        for row in attainment:
            stream.write(
                f"  {row.get('contract')} {row.get('tier')} {row.get('severity')}: {row.get('measured')} measured, "
                f"{row.get('met')} met, {row.get('breached')} breached ({number_text(row.get('percent_met'))}% met)\n"
            )


def number_text(value) -> str:
    """``12.5`` for a number (``:g``), anything else as it is."""
    return format(value, "g") if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)


FORMAT = ReportFormat(name="text", write=write_text, extension="txt", description="for a person, grouped by contract")


@hookimpl
def cso_policy_report_formats():
    return [FORMAT]
