"""The json report: findings and summary, byte-identical for the same inputs and ``--as-of``."""

from __future__ import annotations

import json
from typing import TextIO

from .._version import __version__
from ..markers import hookimpl
from . import Report, ReportFormat


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


FORMAT = ReportFormat(name="json", write=write_json, extension="json", description="findings and summary")


@hookimpl
def cso_policy_report_formats():
    return [FORMAT]
