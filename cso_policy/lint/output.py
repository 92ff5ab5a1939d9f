"""Lint output: text (file:line:col: rule-id message), json and SARIF 2.1.0."""

from __future__ import annotations

import json
from typing import TextIO

from collections.abc import Iterable

from ..reports.sarif import SarifResult, SarifRule, sarif_log
from .catalogue import LintFinding, LintRule


def write_lint(found: list[LintFinding], stream: TextIO, fmt: str = "text", rules: Iterable[LintRule] = (),
               checked: int | None = None) -> None:
    """Write lint findings as text, json or SARIF (*rules*: the lint catalogue, for SARIF); a
    clean text run with *checked* (the number of files read) says ``3 files checked, no problems``."""
    found = sorted(found, key=lambda f: (f.file, f.line or 0, f.column or 0, f.rule, f.message))
    if fmt == "json":
        stream.write(json.dumps({"findings": [f.as_dict() for f in found],
                                 "summary": {"errors": sum(f.level.name == "ERROR" for f in found),
                                             "warnings": sum(f.level.name == "WARNING" for f in found)}}, indent=2) + "\n")
        return
    if fmt == "sarif":
        rules = [SarifRule(id=r.id, short=r.title, full=r.title, help=f"{r.title}. Clause: {r.clause}.",
                           level=str(r.level)) for r in rules]
        results = [SarifResult(rule=f.rule, level=str(f.level), message=f.message,
                               file=f.file, line=f.line, column=f.column) for f in found]
        stream.write(json.dumps(sarif_log(rules, results, tool="cso-policy lint"), indent=2) + "\n")
        return
    for f in found:
        stream.write(f"{f.location()}: {f.rule} {f.message}\n")
    if found:
        errors = sum(f.level.name == "ERROR" for f in found)
        stream.write(f"{errors} error(s), {len(found) - errors} warning(s)\n")
    elif checked is not None:
        stream.write(f"{checked} file{'' if checked == 1 else 's'} checked, no problems\n")
