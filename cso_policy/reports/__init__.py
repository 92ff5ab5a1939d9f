"""Reports: what a run found, and the formats that write it.

Every built-in format is a module of this package and a default plugin of its own
(``cso_policy_report_formats``); a plugin adds a format the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TextIO

import orjson
from attrs import define, field, frozen

from ..core.findings import FindingCounts
from ..core.model import Finding
from ..core.rule import Rule


@define
class Report:
    """What a report format writes: the ``findings`` in report order, the ``rules`` that ran, the
    record counts, the contract ids and policy refs, ``as_of``, and ``sections`` (extra summary
    sections from the domains: ``hours``, ``sla_attainment``...). :meth:`summary` counts them.

    ``findings`` may be many (half a million in a first audit of a customer's history): it is
    an iterable read back from disk as it is iterated, with ``len()``; a format writes as it
    iterates instead of building the whole document first. ``run`` is what the run read and with
    what (see ``cso-policy verify``), when the command asked for it; ``history`` the runs of the
    workspace kept in a history store (``--store``), oldest first, this one last."""

    findings: Iterable[Finding]
    rules: list[Rule]
    records: int = 0
    records_by_kind: dict[str, int] = field(factory=dict)
    contracts: list[str] = field(factory=list)
    policies: list[str] = field(factory=list)
    as_of: datetime | None = None
    sections: dict = field(factory=dict)  # extra summary sections from rules (Audit.summary)
    run: dict | None = None  # the run's reproducible record (the json report's ``run``)
    history: list[dict] | None = None  # the workspace's runs kept in a history store, this one last
    elapsed: float | None = None  # seconds the audit took (for JUnit's time), when measured

    def counts(self) -> FindingCounts:
        """The findings counted (as they passed, for an audit's own findings)."""
        counts = getattr(self.findings, "counts", None)
        return counts if counts is not None else FindingCounts.of(self.findings)

    def summary(self) -> dict:
        """The counts (:data:`SUMMARY_KEYS`), then the sections by name (one named like a count is
        left out: the counts are what every format reads)."""
        found = self.counts().summary()
        return {
            "records": self.records,
            "records_by_kind": dict(sorted(self.records_by_kind.items())),
            "contracts": len(self.contracts),
            **found,
            **{key: self.sections[key] for key in sorted(self.sections, key=str) if key not in SUMMARY_KEYS},
        }


SUMMARY_KEYS = ("records", "records_by_kind", "contracts", "findings", "waived", "by_level", "by_rule", "by_contract")
"""What :meth:`Report.summary` itself counts; no section may take these names."""


ITEMS = "\x00items\x00"
"""Where :func:`write_json_streamed` puts the streamed list in a document."""

_BATCH = 2000


def write_json_streamed(stream: TextIO, document: dict, items: Iterable[dict]) -> None:
    """*document* as JSON indented by two spaces (orjson), with the list *items* written one item
    at a time where the document holds :data:`ITEMS`: the whole list is never in memory."""
    text = orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode()
    head, found, tail = text.partition(orjson.dumps(ITEMS).decode())
    if not found:
        raise ValueError("the document has no place for the items")
    line = head[head.rfind("\n") + 1:]
    pad = "\n" + " " * (len(line) - len(line.lstrip(" ")) + 2)
    dumps, option = orjson.dumps, orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS
    stream.write(head)
    stream.write("[")
    chunk: list[str] = []
    separator = pad
    for item in items:
        chunk.append(separator + dumps(item, option=option).decode().replace("\n", pad))
        separator = "," + pad
        if len(chunk) >= _BATCH:
            stream.write("".join(chunk))
            chunk = []
    stream.write("".join(chunk))
    if separator != pad:  # not empty: the closing bracket on a line of its own
        stream.write(pad[:-2] + "]")
    else:
        stream.write("]")
    stream.write(tail)
    stream.write("\n")


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
