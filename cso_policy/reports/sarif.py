"""SARIF 2.1.0 logs for code-scanning dashboards: the audit's format, and the log builder
that ``lint`` shares."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO
from urllib.parse import quote

from attrs import frozen

from .._version import __version__
from ..markers import hookimpl
from . import ITEMS, Report, ReportFormat, write_json_streamed

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}


@frozen(kw_only=True)
class SarifRule:
    id: str
    short: str
    full: str
    help: str
    level: str  # error | warning | info


@frozen(kw_only=True)
class SarifResult:
    rule: str
    level: str
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    fingerprint: str | None = None
    properties: dict | None = None


def _uri(file: str) -> str:
    """The artifact's URI (RFC 3986): a relative reference to the file from the working
    directory, percent-encoded (a space, ``<``, ``|``, ``%``, ``#``, non-ASCII) except for its
    ``/`` separators; a file outside the working directory is a ``file://`` URI."""
    path = Path(file)
    if path.is_absolute():
        try:
            path = path.relative_to(Path.cwd())
        except ValueError:
            return path.as_uri()
    return quote(path.as_posix(), safe="/")  # ":" too: "c:x" would read as a scheme


def _location(r: SarifResult) -> dict:
    physical: dict = {"artifactLocation": {"uri": _uri(r.file)}}
    if r.line:
        region = {"startLine": r.line}
        if r.column:
            region["startColumn"] = r.column
        physical["region"] = region
    return {"physicalLocation": physical}


def sarif_result(r: SarifResult, index: dict[str, int]) -> dict:
    """One SARIF result; *index* gives each rule's place in the driver's rules."""
    item: dict = {
        "ruleId": r.rule,
        "level": LEVELS[r.level],
        "message": {"text": r.message},
    }
    if r.rule in index:
        item["ruleIndex"] = index[r.rule]
    if r.file:
        item["locations"] = [_location(r)]
    if r.fingerprint:
        item["partialFingerprints"] = {"csoPolicy/v1": r.fingerprint}
    if r.properties:
        item["properties"] = r.properties
    return item


def sarif_log(rules: Iterable[SarifRule], results: Iterable[SarifResult] | str, tool: str = "cso-policy") -> dict:
    """The log; *results* may be :data:`ITEMS`, for the results to be streamed in its place."""
    rules = sorted(rules, key=lambda r: r.id)
    index = {r.id: i for i, r in enumerate(rules)}
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": tool,
                        "version": __version__,
                        "informationUri": "https://example.invalid/cso-policy",
                        "rules": [
                            {
                                "id": r.id,
                                "name": r.id.replace(".", "_"),
                                "shortDescription": {"text": r.short},
                                "fullDescription": {"text": r.full or r.short},
                                "help": {"text": r.help},
                                "defaultConfiguration": {"level": LEVELS[r.level]},
                            }
                            for r in rules
                        ],
                    }
                },
                "results": results if results == ITEMS else [sarif_result(r, index) for r in results],
            }
        ],
    }


def _file_line(source: str | None) -> tuple[str | None, int | None]:
    """``("f.jsonl", 12)`` for ``f.jsonl:12``; the line only when it is ASCII digits (``²`` is a
    digit to ``isdigit()``, not to ``int()``) and fits SARIF's integer."""
    if not source:
        return None, None
    file, _, line = source.rpartition(":")
    if file and line.isascii() and line.isdigit() and len(line) <= 18:
        return file, int(line)
    return source.split(" ")[0], None


def write_sarif(report: Report, stream: TextIO) -> None:
    rules = [
        SarifRule(id=r.id, short=r.title, full=r.description or r.title,
                  help=f"{r.title}. Clause: {r.clause} of the CSO terms. Run `cso-policy explain {r.id}` for the details.",
                  level=str(r.level))
        for r in report.rules
    ]
    index = {r.id: i for i, r in enumerate(sorted(rules, key=lambda r: r.id))}
    write_json_streamed(stream, sarif_log(rules, ITEMS), _results(report, index))


def _results(report: Report, index: dict[str, int]) -> Iterator[dict]:
    for f in report.findings:
        file, line = _file_line(f.source)
        props = {"contract": f.contract, "lob": f.lob, "record": f.record, "clause": f.clause, "policy": f.policy,
                 "impact": f.impact.as_dict() if f.impact else {}, "period": f.period}
        if f.waived:
            props["waiver"] = f.waiver
        item = sarif_result(SarifResult(rule=f.rule, level=str(f.level), message=f"{f.message} [{f.clause}]",
                                        file=file, line=line, fingerprint=f.fingerprint, properties=props), index)
        if f.waived:  # SARIF's own way to say "accepted"
            item["suppressions"] = [{"kind": "external", "justification": f.waiver["reason"]}]
        yield item


FORMAT = ReportFormat(name="sarif", write=write_sarif, extension="sarif", description="SARIF 2.1.0 for code scanning")


@hookimpl
def cso_policy_report_formats():
    return [FORMAT]
