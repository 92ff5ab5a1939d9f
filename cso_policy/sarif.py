"""SARIF 2.1.0 logs, shared by `lint` and `audit`, for code-scanning dashboards."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from attrs import frozen

from . import __version__

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
    path = Path(file)
    if path.is_absolute():
        try:
            path = path.relative_to(Path.cwd())
        except ValueError:
            return path.as_uri()
    return path.as_posix()


def _location(r: SarifResult) -> dict:
    physical: dict = {"artifactLocation": {"uri": _uri(r.file)}}
    if r.line:
        region = {"startLine": r.line}
        if r.column:
            region["startColumn"] = r.column
        physical["region"] = region
    return {"physicalLocation": physical}


def sarif_log(rules: Iterable[SarifRule], results: Iterable[SarifResult], tool: str = "cso-policy") -> dict:
    rules = sorted(rules, key=lambda r: r.id)
    index = {r.id: i for i, r in enumerate(rules)}
    out_results = []
    for r in results:
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
        out_results.append(item)
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
                "results": out_results,
            }
        ],
    }
