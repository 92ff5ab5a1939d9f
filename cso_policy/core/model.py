"""The core data model: contracts, the record base class, and what rules yield and reports show
(violations, findings, impacts). Each domain declares its own record classes (``Work`` in
``domains/entitlement/records.py``, ``Ticket`` in ``domains/sla/records.py``...)."""

from __future__ import annotations

import enum
import hashlib
from datetime import date
from typing import Literal, NewType

from attrs import define, field, frozen

PackKind = Literal["basic", "intermediate", "advanced"]

Positive = NewType("Positive", float)
"""A finite number above 0: hours, quantities, rates and amounts, where the terms give a zero or
negative value no meaning (structuring rejects anything else, naming the field)."""


class Level(enum.IntEnum):
    """Finding level; the order is what ``--fail-on`` compares."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    def __str__(self) -> str:
        return _LEVEL_NAMES[self._value_]  # reports ask for it once a finding, or more

    @classmethod
    def parse(cls, text: str) -> Level:
        return cls[text.upper()]


_LEVEL_NAMES = {level.value: level.name.lower() for level in Level}


# ---------------------------------------------------------------- contracts


@frozen(kw_only=True)
class Term:
    start: date
    end: date


@frozen(kw_only=True)
class Overage:
    rate: Positive | None = None
    currency: str | None = None
    agreement: str | None = None

    @property
    def agreed(self) -> bool:
        return self.rate is not None and bool(self.currency) and bool(self.agreement)


@frozen(kw_only=True)
class Package:
    id: str
    tier: str
    lines_of_business: list[str]


@frozen(kw_only=True)
class ExpansionPurchase:
    package: str
    kind: PackKind
    hours: Positive
    purchased_on: date


@frozen(kw_only=True)
class Contract:
    id: str
    customer: str
    policy: str
    term: Term
    timezone: str
    packages: list[Package]
    renewal_of: str | None = None
    holidays: str | None = None
    holidays_subdiv: str | None = None
    overage: Overage | None = None
    expansion_purchases: list[ExpansionPurchase] = field(factory=list)
    # Where the contract was read from; not part of the TOML.
    path: str = ""


# ---------------------------------------------------------------- records
# Records are mutable only so the loader can stamp their source location after
# structuring; nothing changes them after that.


@define(kw_only=True)
class Record:
    """Base of every record class: its id, its contract, and where it was read (``file``,
    ``line``, stamped by the loader). ``kind`` is a class attribute naming its record kind."""

    id: str
    contract: str
    file: str = ""
    line: int = 0

    kind = "record"

    @property
    def source(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


# ---------------------------------------------------------------- findings


@frozen(kw_only=True)
class Impact:
    hours: float | None = None
    amount: float | None = None
    currency: str | None = None
    duration_seconds: float | None = None

    def as_dict(self) -> dict:
        out: dict = {}
        if self.hours is not None:
            out["hours"] = round(self.hours, 4)
        if self.amount is not None:
            out["amount"] = round(self.amount, 2)
            out["currency"] = self.currency
        if self.duration_seconds is not None:
            out["duration"] = iso_duration(self.duration_seconds)
            out["duration_seconds"] = round(self.duration_seconds, 3)
        return out


    def text(self, *, fixed: bool = False) -> str:
        """For a person: ``5.5 h, USD 1,320.00`` (``5.50 h`` when *fixed*, for aligned reports)
        or ``7 h 30 min over`` (over a target); empty when there is no impact."""
        parts = []
        if self.hours is not None:
            parts.append(f"{self.hours:,.2f} h" if fixed else f"{self.hours:g} h")
        if self.amount is not None:
            parts.append(f"{self.currency} {self.amount:,.2f}")
        if self.duration_seconds is not None:
            parts.append(f"{duration_text(self.duration_seconds)} over")
        return ", ".join(parts)


def duration_text(seconds: float) -> str:
    """``4530`` -> ``1 h 15 min 30 s``, for a person; hours are not folded into days, to read
    against targets given in hours."""
    whole = int(round(abs(seconds)))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{v} {unit}" for v, unit in ((hours, "h"), (minutes, "min"), (secs, "s")) if v]
    return ("-" if seconds < 0 and whole else "") + (" ".join(parts) or "0 s")


def iso_duration(seconds: float) -> str:
    """``5400`` -> ``PT1H30M``: an ISO 8601 duration, for reports."""
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = "".join(
        f"{value}{unit}" for value, unit in ((hours, "H"), (minutes, "M"), (secs, "S")) if value
    )
    return "PT" + (parts or "0S")


@frozen(kw_only=True)
class Violation:
    """What a rule's check yields; the evaluator turns it into a :class:`Finding`."""

    message: str
    record: Record | None = None
    impact: Impact | None = None
    clause: str | None = None
    contract: str | None = None
    lob: str | None = None
    period: str | None = None
    level: Level | None = None
    source: str | None = None  # defaults to the record's file:line


def fingerprint(finding: dict) -> str:
    """Stable across runs and file edits: business keys only (contract, rule, record id, period),
    never the file line. Findings without a record add their LOB and message."""
    keys = [finding.get("contract") or "", finding["rule"], finding.get("record") or "", finding.get("period") or ""]
    if finding.get("record") is None:
        keys += [finding.get("lob") or "", finding.get("message") or ""]
    return hashlib.sha256("\x1f".join(keys).encode()).hexdigest()[:20]


@frozen(kw_only=True)
class Finding:
    rule: str
    level: Level
    contract: str | None
    lob: str | None
    record: str | None
    source: str | None
    message: str
    clause: str
    policy: str | None
    impact: Impact | None = None
    period: str | None = None
    plugin: str | None = None
    waiver: dict | None = None  # the waiver that accepted it: reason, approved_by, expires

    @property
    def waived(self) -> bool:
        return self.waiver is not None

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.as_keys())

    def as_keys(self) -> dict:
        return {"contract": self.contract, "rule": self.rule, "record": self.record, "period": self.period,
                "lob": self.lob, "message": self.message}

    def sort_key(self) -> tuple:
        file, _, line = (self.source or "").rpartition(":")
        numbered = line.isascii() and line.isdigit()  # not "²", which isdigit() also takes
        line_no = int(line) if numbered else 0
        return (
            self.contract or "",
            file if numbered else self.source or "",
            line_no,
            self.rule,
            self.record or "",
            self.message,
        )

    def as_dict(self) -> dict:
        return {
            "rule": self.rule,
            "level": str(self.level),
            "contract": self.contract,
            "lob": self.lob,
            "record": self.record,
            "source": self.source,
            "message": self.message,
            "clause": self.clause,
            "policy": self.policy,
            "impact": self.impact.as_dict() if self.impact else {},
            "period": self.period,
            "plugin": self.plugin,
            "fingerprint": self.fingerprint,
            "waiver": self.waiver,
        }
