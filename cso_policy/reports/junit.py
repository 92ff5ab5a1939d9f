"""JUnit XML: a test case per contract x rule, for CI systems."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TextIO

from ..core.model import Finding
from ..markers import hookimpl
from . import Report, ReportFormat


def write_junit(report: Report, stream: TextIO) -> None:
    """One test case per contract x rule; each failure lists that pair's findings."""
    by_pair: dict[tuple[str, str], list[Finding]] = {}
    for f in report.findings:
        if not f.waived:
            by_pair.setdefault((f.contract or "-", f.rule), []).append(f)
    contracts = sorted(set(report.contracts) | {c for c, _ in by_pair})
    suites = ET.Element("testsuites", name="cso-policy")
    for contract in contracts:
        suite = ET.SubElement(suites, "testsuite", name=contract)
        failures = 0
        rule_ids = sorted({r.id for r in report.rules} | {rule for c, rule in by_pair if c == contract})
        for rule_id in rule_ids:
            case = ET.SubElement(suite, "testcase", classname=contract, name=rule_id)
            found = by_pair.get((contract, rule_id))
            if found:
                failures += 1
                failure = ET.SubElement(case, "failure", type=rule_id,
                                        message=f"{len(found)} finding(s): {found[0].message}")
                failure.text = "\n".join(f"{f.source or '-'}: {f.level}: {f.record or '-'}: {f.message}" for f in found)
        suite.set("tests", str(len(rule_ids)))
        suite.set("failures", str(failures))
        suite.set("errors", "0")
    ET.indent(suites)
    stream.write(ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n")


FORMAT = ReportFormat(name="junit", write=write_junit, extension="xml", description="JUnit XML: a test case per contract x rule")


@hookimpl
def cso_policy_report_formats():
    return [FORMAT]
