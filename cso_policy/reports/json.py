"""The json report: findings and summary, byte-identical for the same inputs and ``--as-of``.

Written with orjson, one finding at a time, so that half a million findings never make one
document in memory."""

from __future__ import annotations

from typing import TextIO

from .._version import __version__
from ..markers import hookimpl
from . import ITEMS, Report, ReportFormat, write_json_streamed


def write_json(report: Report, stream: TextIO) -> None:
    """Byte-identical for the same inputs: fixed key order, no clock, no host data."""
    document = {
        "findings": ITEMS,
        "summary": report.summary(),
        "as_of": report.as_of.isoformat() if report.as_of else None,
        "policies": report.policies,
        "tool": {"name": "cso-policy", "version": __version__},
    }
    if report.run is not None:  # what the run read and with what, for cso-policy verify
        document["run"] = report.run
    write_json_streamed(stream, document, (f.as_dict() for f in report.findings))


FORMAT = ReportFormat(name="json", write=write_json, extension="json", description="findings and summary")


@hookimpl
def cso_policy_report_formats():
    return [FORMAT]
