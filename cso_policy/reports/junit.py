"""JUnit XML: a test case per contract x rule, for CI systems.

Written one contract at a time: the findings come sorted by contract, so only one contract's
findings are held while its test suite is written."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Iterator
from typing import TextIO
from xml.sax.saxutils import escape, quoteattr

from ..core.model import Finding
from ..markers import hookimpl
from . import Report, ReportFormat

NO_CONTRACT = "-"


def _suite(contract: str, rule_ids: Iterable[str], findings: list[Finding]) -> str:
    """The ``<testsuite>`` of one contract: a case per rule, failing with the rule's findings."""
    by_rule: dict[str, list[Finding]] = {}
    for f in findings:
        if not f.waived:
            by_rule.setdefault(f.rule, []).append(f)
    cases = sorted(set(rule_ids) | set(by_rule))
    lines = []
    for rule_id in cases:
        found = by_rule.get(rule_id)
        head = f"    <testcase classname={quoteattr(contract)} name={quoteattr(rule_id)}"
        if not found:
            lines.append(head + " />")
            continue
        text = "\n".join(f"{f.source or '-'}: {f.level}: {f.record or '-'}: {f.message}" for f in found)
        message = f"{len(found)} finding(s): {found[0].message}"
        lines += [head + ">",
                  f"      <failure type={quoteattr(rule_id)} message={quoteattr(message)}>{escape(text)}</failure>",
                  "    </testcase>"]
    failures = sum(1 for rule_id in cases if rule_id in by_rule)
    return (f'  <testsuite name={quoteattr(contract)} tests="{len(cases)}" failures="{failures}" errors="0">\n'
            + "\n".join(lines) + "\n  </testsuite>\n")


def _blocks(findings: Iterable[Finding]) -> Iterator[tuple[str, list[Finding]]]:
    """``(contract, its findings)`` in contract order; the findings come sorted by contract, with
    the ones naming no contract (or an empty one) first, which are put in the place of ``-``."""
    no_contract: list[Finding] = []
    for contract, group in itertools.groupby(findings, key=lambda f: f.contract or ""):
        if not contract:
            no_contract += group
            continue
        if no_contract and NO_CONTRACT < contract:
            yield NO_CONTRACT, no_contract
            no_contract = []
        yield contract, list(group)
    if no_contract:
        yield NO_CONTRACT, no_contract


def write_junit(report: Report, stream: TextIO) -> None:
    """One test suite per contract (those without findings too), a test case per rule; each
    failure lists that pair's findings."""
    rule_ids = [r.id for r in report.rules]
    known = ((contract, []) for contract in sorted(set(report.contracts)))
    stream.write("<?xml version='1.0' encoding='utf-8'?>\n<testsuites name=\"cso-policy\">\n")
    merged = heapq.merge(known, _blocks(report.findings), key=lambda pair: pair[0])
    for contract, pairs in itertools.groupby(merged, key=lambda pair: pair[0]):
        stream.write(_suite(contract, rule_ids, [f for _, found in pairs for f in found]))
    stream.write("</testsuites>\n")


FORMAT = ReportFormat(name="junit", write=write_junit, extension="xml", description="JUnit XML: a test case per contract x rule")


@hookimpl
def cso_policy_report_formats():
    return [FORMAT]
