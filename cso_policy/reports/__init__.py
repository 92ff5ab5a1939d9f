"""Reports: what a run found, and the formats that write it.

Every built-in format is a module of this package and a default plugin of its own
(``cso_policy_report_formats``); a plugin adds a format the same way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import TextIO

from attrs import define, field, frozen

from ..core.model import Finding, Level
from ..core.rule import Rule


@define
class Report:
    """What a report format writes: the ``findings`` (sorted), the ``rules`` that ran, the record
    counts, the contract ids and policy refs, ``as_of``, and ``sections`` (extra summary
    sections from the domains: ``hours``, ``sla_attainment``...). :meth:`summary` counts them."""

    findings: list[Finding]
    rules: list[Rule]
    records: int = 0
    records_by_kind: dict[str, int] = field(factory=dict)
    contracts: list[str] = field(factory=list)
    policies: list[str] = field(factory=list)
    as_of: datetime | None = None
    sections: dict = field(factory=dict)  # extra summary sections from rules (Audit.summary)

    def summary(self) -> dict:
        by_level = {str(level): 0 for level in sorted(Level, reverse=True)}
        by_rule: dict[str, dict] = {}
        by_contract: dict[str, int] = defaultdict(int)
        waived = 0
        for f in self.findings:
            if f.waived:  # counted, never failing
                waived += 1
                continue
            by_level[str(f.level)] += 1
            by_contract[f.contract or "-"] += 1
            entry = by_rule.setdefault(f.rule, {"count": 0, "hours": 0.0, "amounts": {}})
            entry["count"] += 1
            if f.impact is not None:
                if f.impact.hours is not None:
                    entry["hours"] += f.impact.hours
                if f.impact.amount is not None:
                    amounts = entry["amounts"]
                    amounts[f.impact.currency] = amounts.get(f.impact.currency, 0.0) + f.impact.amount
        for entry in by_rule.values():
            entry["hours"] = round(entry["hours"], 4)
            entry["amounts"] = {c: round(a, 2) for c, a in sorted(entry["amounts"].items())}
        return {
            "records": self.records,
            "records_by_kind": dict(sorted(self.records_by_kind.items())),
            "contracts": len(self.contracts),
            "findings": len(self.findings) - waived,
            "waived": waived,
            "by_level": by_level,
            "by_rule": dict(sorted(by_rule.items())),
            "by_contract": dict(sorted(by_contract.items())),
            **{key: self.sections[key] for key in sorted(self.sections)},
        }


@frozen(kw_only=True)
class ReportFormat:
    """A report format.

    :param name: what ``--format`` takes.
    :param write: ``write(report, stream)`` writes the whole report to a text stream.
    :param extension: the file extension of ``--output-dir``'s ``report.<extension>`` (default: the name).
    :param description: one line for ``cso-policy plugins``.
    """

    name: str
    write: Callable[[Report, TextIO], None]
    extension: str = ""
    description: str = ""

    @property
    def file_name(self) -> str:
        return f"report.{self.extension or self.name}"
