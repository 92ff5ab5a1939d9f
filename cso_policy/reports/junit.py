"""JUnit XML: a test case per contract x rule, for CI systems (Jenkins, GitLab, Azure DevOps...).

The document conforms to Jenkins' JUnit schema (the xUnit plugin's ``junit-10.xsd``, kept as
``tests/schemas/jenkins-junit.xsd`` and validated against in the tests):

- ``<testsuites name tests failures errors time>``: the totals of the suites. The schema allows
  no ``skipped`` nor ``timestamp`` on ``<testsuites>``: those are on each ``<testsuite>``.
- ``<testsuite name tests failures errors skipped time timestamp>``: one per contract (those
  without findings too; the findings naming no contract in suite ``-``).
- ``<testcase classname name>``: one per rule; it fails (``<failure type message>``, the pair's
  unwaived findings one a line) when the contract has unwaived findings of the rule, and is
  skipped (``<skipped message="waived: <reason>">``, the waived findings one a line) when every
  finding of the pair is waived. ``errors`` is always 0: a finding is a failed check, not a
  check that could not run.

``time``: the audit is measured as a whole (``report.elapsed``, in seconds): its rules run over
every contract together, so no contract has a time of its own. ``<testsuites time>`` is the
whole and each suite gets an equal share of it, so the suites add up to the whole; 0 when the
run was not measured. ``timestamp``: the run's ``as_of`` in UTC, to the second and without an
offset (``2026-12-31T00:00:00``, the form of the Ant/Jenkins schemas' ISO 8601 pattern); left
out when the report has no ``as_of``.

Text and attribute values are XML 1.0 whatever the ids, file names and messages hold: the
characters XML 1.0 does not allow (C0 controls but tab, LF and CR; U+FFFE, U+FFFF; surrogates)
become U+FFFD, and a CR is written as ``&#13;`` so a parser keeps it.

Written one contract at a time: the findings come sorted by contract, so only one contract's
findings are held while its test suite is written. The totals go before the suites, so the
suites' test cases are written to a spooled temporary file first (in memory up to a few
megabytes, on disk beyond) and copied after the ``<testsuites>`` tag; only a line of counts per
suite is kept."""

from __future__ import annotations

import heapq
import itertools
import re
import tempfile
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from typing import TextIO
from xml.sax.saxutils import escape, quoteattr

from attrs import frozen

from ..core.model import Finding
from ..markers import hookimpl
from . import Report, ReportFormat

NO_CONTRACT = "-"

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_SPOOL_BYTES = 8 * 1024 * 1024


def xml_chars(text: str) -> str:
    """*text* with every character XML 1.0 does not allow replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)


def _attr(value: object) -> str:
    """An attribute value, quoted: ``"a &amp; b"`` (tab, LF and CR as character references)."""
    return quoteattr(xml_chars(str(value)))


def _text(value: str) -> str:
    """Element text, escaped (a CR as ``&#13;``: a parser would turn a bare one into LF)."""
    return escape(xml_chars(value), {"\r": "&#13;"})


def junit_timestamp(moment: datetime | None) -> str | None:
    """``2026-12-31T00:00:00``: *moment* in UTC to the second, without an offset (a naive
    *moment* is taken as UTC already); None for None."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.replace(microsecond=0).isoformat()


def _seconds(value: float) -> str:
    return f"{max(value, 0.0):.3f}"


@frozen
class _Suite:
    """What the ``<testsuite>`` tag of a suite says, and how long its cases are in the spool."""

    name: str
    tests: int
    failures: int
    skipped: int
    length: int  # characters of its test cases in the spool


def _line(f: Finding) -> str:
    return f"{f.source or '-'}: {f.level}: {f.record or '-'}: {f.message}"


def _cases(contract: str, rule_ids: Iterable[str], findings: list[Finding]) -> tuple[str, int, int, int]:
    """The ``<testcase>`` elements of one contract, a case per rule: failing with the rule's
    unwaived findings, skipped when all its findings are waived; and the counts of cases,
    failures and skipped cases."""
    unwaived: dict[str, list[Finding]] = {}
    waived: dict[str, list[Finding]] = {}
    for f in findings:
        (waived if f.waived else unwaived).setdefault(f.rule, []).append(f)
    cases = sorted(set(rule_ids) | set(unwaived) | set(waived))
    classname = _attr(contract)
    lines = []
    failures = skipped = 0
    for rule_id in cases:
        head = f"    <testcase classname={classname} name={_attr(rule_id)}"
        found = unwaived.get(rule_id)
        if found:
            failures += 1
            text = "\n".join(_line(f) for f in found)
            message = f"{len(found)} finding(s): {found[0].message}"
            lines += [head + ">",
                      f"      <failure type={_attr(rule_id)} message={_attr(message)}>{_text(text)}</failure>",
                      "    </testcase>"]
        elif rule_id in waived:
            skipped += 1
            accepted = waived[rule_id]
            reasons = "; ".join(dict.fromkeys(str((f.waiver or {}).get("reason") or "") for f in accepted))
            text = "\n".join(_line(f) for f in accepted)
            lines += [head + ">",
                      f"      <skipped message={_attr('waived: ' + reasons)}>{_text(text)}</skipped>",
                      "    </testcase>"]
        else:
            lines.append(head + " />")
    return "".join(line + "\n" for line in lines), len(cases), failures, skipped


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
    failure lists that pair's unwaived findings, each skipped case its waived ones."""
    rule_ids = [r.id for r in report.rules]
    known = ((contract, []) for contract in sorted(set(report.contracts)))
    merged = heapq.merge(known, _blocks(report.findings), key=lambda pair: pair[0])
    suites: list[_Suite] = []
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES, mode="w+", encoding="utf-8", newline="") as spool:
        for contract, pairs in itertools.groupby(merged, key=lambda pair: pair[0]):
            cases, tests, failures, skipped = _cases(contract, rule_ids, [f for _, found in pairs for f in found])
            spool.write(cases)
            suites.append(_Suite(contract, tests, failures, skipped, len(cases)))
        spool.seek(0)

        elapsed = report.elapsed or 0.0
        share = elapsed / len(suites) if suites else 0.0
        timestamp = junit_timestamp(report.as_of)
        stamp = f" timestamp={_attr(timestamp)}" if timestamp else ""
        stream.write("<?xml version='1.0' encoding='utf-8'?>\n")
        stream.write(f"<testsuites name=\"cso-policy\" tests=\"{sum(s.tests for s in suites)}\""
                     f" failures=\"{sum(s.failures for s in suites)}\" errors=\"0\" time=\"{_seconds(elapsed)}\">\n")
        for suite in suites:
            stream.write(f"  <testsuite name={_attr(suite.name)} tests=\"{suite.tests}\" failures=\"{suite.failures}\""
                         f" errors=\"0\" skipped=\"{suite.skipped}\" time=\"{_seconds(share)}\"{stamp}>\n")
            stream.write(spool.read(suite.length))
            stream.write("  </testsuite>\n")
        stream.write("</testsuites>\n")


FORMAT = ReportFormat(name="junit", write=write_junit, extension="xml", description="JUnit XML: a test case per contract x rule")


@hookimpl
def cso_policy_report_formats():
    return [FORMAT]
