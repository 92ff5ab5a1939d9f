"""Waivers: accepted exceptions, each with a reason, an approver and an expiry date.

A waiver matches findings by rule glob, contract, and record or line of business.
A matched finding is reported as waived (counted, never failing). A waiver is
valid through the whole of its ``expires`` day in the contract's time zone; after
that it waives nothing and is itself a ``waiver.expired`` finding. A waiver that
matches nothing is a ``waiver.unused`` finding, so stale ones get cleaned up.
"""

from __future__ import annotations

import fnmatch
from datetime import date, datetime, timezone
from pathlib import Path

from attrs import evolve, frozen

from ...core.context import ContractView
from ...core.convert import StructureError, structure
from ...core.model import Finding, Level
from ...core.rule import Rule
from ...errors import ConfigError
from ...inputs.toml import read_toml


@frozen(kw_only=True)
class Waiver:
    rule: str
    contract: str
    reason: str
    approved_by: str
    expires: date
    record: str | None = None
    lob: str | None = None


@frozen(kw_only=True)
class WaiverFile:
    waiver: list[Waiver]


def load_waivers(path: Path) -> list[tuple[Waiver, str]]:
    """The waivers of *path*, each with its place (``waivers.toml $.waiver[2]``)."""
    data = read_toml(path)
    try:
        waivers = structure(data, WaiverFile).waiver
    except StructureError as exc:
        field_path, msg = exc.problems[0]
        raise ConfigError(f"{path} {field_path}: {msg}") from None
    for i, w in enumerate(waivers):
        if w.record is None and w.lob is None:
            raise ConfigError(f"{path} $.waiver[{i}]: a waiver names a record or a lob (waive narrowly)")
    return [(w, f"{path} $.waiver[{i}]") for i, w in enumerate(waivers)]


def _expired(w: Waiver, views: dict[str, ContractView], now: datetime) -> bool:
    view = views.get(w.contract)
    today = view.local_date(now) if view is not None else now.astimezone(timezone.utc).date()
    return today > w.expires


def _matches(w: Waiver, f: Finding) -> bool:
    return (
        f.contract == w.contract
        and fnmatch.fnmatchcase(f.rule, w.rule)
        and (w.record is None or f.record == w.record)
        and (w.lob is None or f.lob == w.lob)
    )


class WaiverSet:
    """The waivers of one run, applied to findings as they pass: :meth:`mark` marks a finding a
    live waiver matches and remembers the waiver as used; after the run, :meth:`findings` gives
    the ``waiver.expired`` and ``waiver.unused`` findings."""

    def __init__(self, waivers: list[tuple[Waiver, str]], views: dict[str, ContractView], now: datetime):
        self.waivers = waivers
        self.views = views
        self.now = now
        self.active = [(i, w) for i, (w, _) in enumerate(waivers) if not _expired(w, views, now)]
        self.used: set[int] = set()

    def mark(self, f: Finding) -> Finding:
        for i, w in self.active:
            if _matches(w, f):
                self.used.add(i)
                return evolve(f, waiver={"reason": w.reason, "approved_by": w.approved_by,
                                         "expires": w.expires.isoformat()})
        return f

    def findings(self) -> list[Finding]:
        out = []
        for i, (w, where) in enumerate(self.waivers):
            target = w.record or f"lob {w.lob}"
            view = self.views.get(w.contract)
            policy = view.policy_ref if view is not None else None
            if _expired(w, self.views, self.now):
                out.append(Finding(rule=EXPIRED.id, level=EXPIRED.level, contract=w.contract, lob=w.lob,
                                   record=w.record, source=where,
                                   message=f"waiver of {w.rule} for {target} expired on {w.expires} "
                                   f"(approved by {w.approved_by}: {w.reason}); renew it or fix the finding",
                                   clause=EXPIRED.clause, policy=policy))
            elif i not in self.used:
                out.append(Finding(rule=UNUSED.id, level=UNUSED.level, contract=w.contract, lob=w.lob,
                                   record=w.record, source=where,
                                   message=f"waiver of {w.rule} for {target} matches no finding; remove it",
                                   clause=UNUSED.clause, policy=policy))
        return out


EXPIRED = Rule(id="waiver.expired", title="A waiver past its expiry date", clause="waivers", level=Level.ERROR,
               description="Valid through its expires day in the contract's time zone; after that it waives nothing.")
UNUSED = Rule(id="waiver.unused", title="A waiver that matches no finding", clause="waivers", level=Level.WARNING,
              description="Remove stale waivers so that they cannot hide a new deviation later.")
