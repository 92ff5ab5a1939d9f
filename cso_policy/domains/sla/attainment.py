"""SLA attainment: per contract, tier and final severity, the tickets measured, met and breached."""

from __future__ import annotations

from attrs import define, field

from .clocks import BREACHED, MET, TicketSla
from .terms import CLOCKS



@define
class Attainment:
    """Tickets measured, met (every measured clock met) and breached (any clock breached) for
    one (contract, tier, final severity); and the same per clock. Kept as a count per
    TicketSla.statuses: few distinct values, so adding a ticket is one dict update."""

    counts: dict[tuple[str | None, ...], int] = field(factory=dict)

    def add(self, sla: TicketSla) -> None:
        key = sla.statuses
        self.counts[key] = self.counts.get(key, 0) + 1

    def as_dict(self) -> dict:
        tickets = measured = met = breached = 0
        rows = [[0, 0, 0] for _ in CLOCKS]  # per clock: measured, met, breached
        for statuses, n in self.counts.items():
            tickets += n
            if all(s is None for s in statuses):
                continue
            measured += n
            if BREACHED in statuses:
                breached += n
            else:
                met += n
            for row, status in zip(rows, statuses):
                if status is not None:
                    row[0] += n
                    row[1 if status is MET else 2] += n
        return {
            "tickets": tickets,
            "measured": measured,
            "met": met,
            "breached": breached,
            "percent_met": _percent(met, measured),
            "clocks": {
                clock: {"measured": m, "met": ok, "breached": b, "percent_met": _percent(ok, m)}
                for clock, (m, ok, b) in zip(CLOCKS, rows)
                if m
            },
        }


def _percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None
