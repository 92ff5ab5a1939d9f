"""CSV: one row per finding, with impact columns."""

from __future__ import annotations

import csv
from typing import TextIO

from ..core.model import Finding
from ..markers import hookimpl
from . import Report, ReportFormat

CSV_COLUMNS = ("rule", "level", "contract", "lob", "record", "source", "period", "clause", "policy",
               "hours", "amount", "currency", "duration_seconds", "waived", "waiver_reason", "message", "fingerprint")


def finding_row(f: Finding) -> dict:
    impact = f.impact.as_dict() if f.impact else {}
    return {
        "rule": f.rule, "level": str(f.level), "contract": f.contract or "", "lob": f.lob or "",
        "record": f.record or "", "source": f.source or "", "period": f.period or "", "clause": f.clause,
        "policy": f.policy or "", "hours": impact.get("hours", ""), "amount": impact.get("amount", ""),
        "currency": impact.get("currency", ""), "duration_seconds": impact.get("duration_seconds", ""),
        "waived": "yes" if f.waived else "", "waiver_reason": f.waiver["reason"] if f.waived else "",
        "message": f.message, "fingerprint": f.fingerprint,
    }


def write_csv(report: Report, stream: TextIO) -> None:
    writer = csv.DictWriter(stream, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for f in report.findings:
        writer.writerow(finding_row(f))


FORMAT = ReportFormat(name="csv", write=write_csv, extension="csv", description="one row per finding, impact columns")


@hookimpl
def cso_policy_report_formats():
    return [FORMAT]
