"""Where a run's findings go: counted as they pass, kept in report order, flat in memory.

A :class:`FindingStore` takes findings in the order rules give them. It counts them for the
summary as they arrive (:class:`FindingCounts`), keeps up to :data:`FINDINGS_IN_MEMORY` of
them in memory, and beyond that sorts each batch and writes it to a temporary file (one
orjson line a finding). :meth:`FindingStore.close` gives :class:`Findings`: every finding in
report order (:meth:`Finding.sort_key`), merged from the sorted runs each time it is
iterated, so a report with half a million findings is written without holding them.
Findings with equal sort keys keep the order they were added in (the sort and the merge are
stable), which is what makes the report the same for the same inputs.
"""

from __future__ import annotations

import heapq
import os
import tempfile
from collections.abc import Iterable, Iterator
from operator import itemgetter
from pathlib import Path

import orjson
from attrs import define, field

from .model import Finding, Impact, Level

FINDINGS_IN_MEMORY = 20_000
"""Findings held in memory by one store before a sorted batch goes to a temporary file."""

_LEVELS = {int(level): level for level in Level}
_LEVEL_NAMES = [str(level) for level in sorted(Level, reverse=True)]


def finding_row(f: Finding) -> list:
    """A finding as a JSON array, for the runs on disk."""
    impact = f.impact
    return [f.rule, int(f.level), f.contract, f.lob, f.record, f.source, f.message, f.clause, f.policy,
            None if impact is None else [impact.hours, impact.amount, impact.currency, impact.duration_seconds],
            f.period, f.plugin, f.waiver]


def finding_from_row(row: list) -> Finding:
    impact = row[9]
    return Finding(rule=row[0], level=_LEVELS[row[1]], contract=row[2], lob=row[3], record=row[4], source=row[5],
                   message=row[6], clause=row[7], policy=row[8],
                   impact=None if impact is None else Impact(hours=impact[0], amount=impact[1], currency=impact[2],
                                                             duration_seconds=impact[3]),
                   period=row[10], plugin=row[11], waiver=row[12])


@define
class FindingCounts:
    """What the summary says of the findings, counted as they pass: the waived ones apart, the
    others by level, by rule (count, hours, amounts per currency) and by contract."""

    total: int = 0
    waived: int = 0
    by_level: dict[str, int] = field(factory=lambda: dict.fromkeys(_LEVEL_NAMES, 0))
    by_rule: dict[str, list] = field(factory=dict)  # rule -> [count, hours, {currency: amount}]
    by_contract: dict[str, int] = field(factory=dict)

    @classmethod
    def of(cls, findings: Iterable[Finding]) -> FindingCounts:
        counts = cls()
        for f in findings:
            counts.add(f)
        return counts

    def add(self, f: Finding) -> None:
        self.total += 1
        if f.waiver is not None:  # counted, never failing
            self.waived += 1
            return
        self.by_level[str(f.level)] += 1
        contract = f.contract or "-"
        self.by_contract[contract] = self.by_contract.get(contract, 0) + 1
        entry = self.by_rule.get(f.rule)
        if entry is None:
            entry = self.by_rule[f.rule] = [0, 0.0, {}]
        entry[0] += 1
        impact = f.impact
        if impact is not None:
            if impact.hours is not None:
                entry[1] += impact.hours
            if impact.amount is not None:
                entry[2][impact.currency] = entry[2].get(impact.currency, 0.0) + impact.amount

    def merge(self, other: FindingCounts) -> None:
        """Add what *other* counted (the counts of another process's share of the contracts)."""
        self.total += other.total
        self.waived += other.waived
        for level, n in other.by_level.items():
            self.by_level[level] = self.by_level.get(level, 0) + n
        for contract, n in other.by_contract.items():
            self.by_contract[contract] = self.by_contract.get(contract, 0) + n
        for rule, (count, hours, amounts) in other.by_rule.items():
            entry = self.by_rule.setdefault(rule, [0, 0.0, {}])
            entry[0] += count
            entry[1] += hours
            for currency, amount in amounts.items():
                entry[2][currency] = entry[2].get(currency, 0.0) + amount

    def highest(self) -> Level | None:
        """The highest level of a finding not waived."""
        return next((Level.parse(name) for name in _LEVEL_NAMES if self.by_level.get(name)), None)

    def summary(self) -> dict:
        """The summary's findings part: ``findings``, ``waived``, ``by_level``, ``by_rule``, ``by_contract``."""
        by_rule = {
            rule: {"count": count, "hours": round(hours, 4),
                   "amounts": {c: round(a, 2) for c, a in sorted(amounts.items(), key=_currency_order)}}
            for rule, (count, hours, amounts) in sorted(self.by_rule.items())
        }
        return {"findings": self.total - self.waived, "waived": self.waived, "by_level": dict(self.by_level),
                "by_rule": by_rule, "by_contract": dict(sorted(self.by_contract.items()))}


def _currency_order(item: tuple) -> tuple:
    currency = item[0]
    return currency is None, currency or ""  # an amount without a currency last


class Findings:
    """A run's findings in report order: re-iterable, ``len()`` is their number, ``counts``
    what the summary says of them. Read back from disk as they are iterated when there are
    many; ``list()`` it only when it is known to be small."""

    def __init__(self, runs: list[list[tuple] | Path], counts: FindingCounts, keep_alive=None):
        self._runs = runs  # each sorted: (sort key, finding) pairs in memory, or a file of them
        self.counts = counts
        self._keep_alive = keep_alive  # the folder of the runs on disk lives as long as this

    def __iter__(self) -> Iterator[Finding]:
        sources = [iter(run) if isinstance(run, list) else _read_run(run) for run in self._runs]
        pairs = sources[0] if len(sources) == 1 else heapq.merge(*sources, key=_KEY)
        return map(_FINDING, pairs)

    def __len__(self) -> int:
        return self.counts.total

    def __bool__(self) -> bool:
        return self.counts.total > 0

    def __eq__(self, other) -> bool:
        if isinstance(other, (Findings, list, tuple)):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None

    def __repr__(self) -> str:
        return f"<Findings: {self.counts.total}>"


_KEY, _FINDING = itemgetter(0), itemgetter(1)


def _read_run(path: Path) -> Iterator[tuple]:
    """(sort key, finding) pairs of a run on disk: each line is ``[key, row]``, the key kept so
    that merging does not work it out again."""
    loads = orjson.loads
    with open(path, "rb") as fh:
        for line in fh:
            key, row = loads(line)
            yield tuple(key), finding_from_row(row)


class FindingStore:
    """Takes findings in any order and gives them back sorted (see the module); *folder* is where
    its runs go (default: a temporary folder of its own, removed with the last reference)."""

    def __init__(self, limit: int = FINDINGS_IN_MEMORY, folder: Path | None = None):
        self.limit = limit
        self.items: list[tuple] = []  # (sort key, finding)
        self.runs: list[Path] = []
        self.counts = FindingCounts()
        self._folder = folder
        self._owned = None

    def add(self, f: Finding) -> None:
        self.items.append((f.sort_key(), f))
        self.counts.add(f)
        if len(self.items) >= self.limit:
            self._spill()

    def __len__(self) -> int:
        return self.counts.total

    def _directory(self) -> Path:
        if self._folder is None:
            self._owned = tempfile.TemporaryDirectory(prefix="cso-policy-findings-")
            self._folder = Path(self._owned.name)
        return self._folder

    def _spill(self) -> None:
        self.items.sort(key=_KEY)
        fd, name = tempfile.mkstemp(prefix="run-", suffix=".jsonl", dir=self._directory())
        dumps = orjson.dumps
        with os.fdopen(fd, "wb") as fh:
            fh.writelines(dumps([key, finding_row(f)]) + b"\n" for key, f in self.items)
        self.runs.append(Path(name))
        self.items = []

    def to_disk(self) -> list[Path]:
        """Every finding in sorted runs on disk (for another process to merge)."""
        if self.items:
            self._spill()
        return list(self.runs)

    def in_memory(self) -> list[tuple]:
        """Every finding as sorted (sort key, finding) pairs in memory (for another machine)."""
        findings = self.close()
        sources = [iter(run) if isinstance(run, list) else _read_run(run) for run in findings._runs]
        return list(heapq.merge(*sources, key=_KEY))

    def close(self) -> Findings:
        self.items.sort(key=_KEY)
        runs: list = [*self.runs, self.items] if self.items or not self.runs else list(self.runs)
        return Findings(runs, self.counts, keep_alive=self._owned)


def merged(parts: list[tuple[list[Path], FindingCounts]], extra: Findings, keep_alive=None) -> Findings:
    """The findings of several stores (each ``(its runs on disk, its counts)``) and *extra*, in
    report order: the runs are merged, never sorted again."""
    counts = FindingCounts()
    runs: list = []
    for paths, part in parts:
        runs.extend(paths)
        counts.merge(part)
    counts.merge(extra.counts)
    runs.extend(extra._runs)
    return Findings(runs, counts, keep_alive=(keep_alive, extra._keep_alive))


__all__ = ["FINDINGS_IN_MEMORY", "FindingCounts", "FindingStore", "Findings", "finding_from_row", "finding_row",
           "merged"]
