"""CSV: one row per finding, with impact columns.

- Numbers: ``amount`` with two decimals (``1680.00``), ``hours`` rounded to 4 decimals without
  float noise (``7.0``, ``0.3``), ``duration_seconds`` in seconds (``86400.0``); beside it
  ``duration`` for a person (``24 h``, ``7 h 30 min``: :func:`cso_policy.core.model.duration_text`).
- Formula injection (OWASP's "CSV Injection" rule): a text cell starting with ``=``, ``+``,
  ``-``, ``@``, a tab or a CR would be run as a formula by a spreadsheet; it is written with a
  ``'`` in front (``'=HYPERLINK(...)``). Only the text columns are neutralised: the numeric
  columns (``hours``, ``amount``, ``duration_seconds``) are written from numbers here, so a
  negative one stays a number a spreadsheet can add up.
- Quoting: RFC 4180 (``csv.QUOTE_MINIMAL``), every field holding a delimiter, a quote, a CR or
  an LF quoted, so that each finding reads back as one row with ``csv.reader``; rows end with
  LF. (The csv module of Python < 3.12 quotes only the characters of the line terminator: the
  writer uses CRLF, and the row's final CRLF is written as LF.)
"""

from __future__ import annotations

import csv
from typing import TextIO

from ..core.model import Finding, duration_text
from ..markers import hookimpl
from . import Report, ReportFormat

CSV_COLUMNS = ("rule", "level", "contract", "lob", "record", "source", "period", "clause", "policy",
               "hours", "amount", "currency", "duration", "duration_seconds", "waived", "waiver_reason", "message",
               "fingerprint")
NUMERIC_COLUMNS = frozenset({"hours", "amount", "duration_seconds"})
"""Columns written from numbers, never neutralised; every other column is text."""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What a cell a spreadsheet would run as a formula starts with (OWASP)."""


def neutralise(text: str) -> str:
    """*text* with a ``'`` in front when a spreadsheet would run it as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _number(value: float | None, places: int) -> str:
    return "" if value is None else str(round(value, places))


def finding_row(f: Finding) -> dict:
    """The CSV row of *f*, column name -> cell text, neutralised."""
    impact = f.impact
    seconds = impact.duration_seconds if impact else None
    row = {
        "rule": f.rule, "level": str(f.level), "contract": f.contract or "", "lob": f.lob or "",
        "record": f.record or "", "source": f.source or "", "period": f.period or "", "clause": f.clause,
        "policy": f.policy or "",
        "hours": _number(impact.hours if impact else None, 4),
        "amount": f"{impact.amount:.2f}" if impact and impact.amount is not None else "",
        "currency": (impact.currency or "") if impact and impact.amount is not None else "",
        "duration": duration_text(seconds) if seconds is not None else "",
        "duration_seconds": _number(seconds, 3),
        "waived": "yes" if f.waived else "", "waiver_reason": str(f.waiver.get("reason") or "") if f.waiver else "",
        "message": f.message, "fingerprint": f.fingerprint,
    }
    return {key: value if key in NUMERIC_COLUMNS else neutralise(value) for key, value in row.items()}


class _LfRows:
    """A stream for ``csv.writer`` with the CRLF line terminator, writing each row's own CRLF as
    LF (the fields' CRs and LFs are inside quotes)."""

    def __init__(self, stream: TextIO):
        self.stream = stream

    def write(self, line: str) -> int:
        return self.stream.write(line[:-2] + "\n" if line.endswith("\r\n") else line)


def write_csv(report: Report, stream: TextIO) -> None:
    writer = csv.DictWriter(_LfRows(stream), fieldnames=CSV_COLUMNS, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writeheader()
    for f in report.findings:
        writer.writerow(finding_row(f))


FORMAT = ReportFormat(name="csv", write=write_csv, extension="csv", description="one row per finding, impact columns")


@hookimpl
def cso_policy_report_formats():
    return [FORMAT]
