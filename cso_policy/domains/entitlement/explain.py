"""What ``cso-policy explain`` shows for the entitlement domain: the package's caps and the
overage agreement among the terms that applied, and for an hours finding the period's work
records with the running total against the cap."""

from __future__ import annotations

from collections.abc import Iterator

from ...core.context import ContractView, Pool
from ...core.model import Finding
from .ledger import allowance_cap, allowance_key, counts_toward_caps, pool_ledger
from .records import Work
from .terms import entitlement_terms


def terms_lines(view: ContractView, pool: Pool | None) -> list[str]:
    lines = []
    if pool is not None:
        ledger = pool_ledger(pool)
        lines.append(f"package {pool.id}: {pool.tier}, shared by {', '.join(pool.lobs)}; "
                     f"{ledger.quarterly_cap:g} h per contract quarter, {ledger.annual_cap:g} h per contract year (Section 1)")
    overage = view.contract.overage
    if overage is not None and overage.agreed:
        lines.append(f"overage rate {overage.currency} {overage.rate:,.2f}/h agreed in {overage.agreement}")
    else:
        lines.append("no overage rate agreed in writing")
    return lines


def _work_in_period(context, view: ContractView, pool: Pool, period: str | None, service_filter=None) -> Iterator[Work]:
    parsed = view.calendar.parse_label(period) if period else None
    for record in context.records(kind="work", contract=view.id):
        if record.lob not in pool.lobs:
            continue
        if not view.calendar.in_term(record.date) or not counts_toward_caps(pool, record):
            continue
        if service_filter is not None and not service_filter(record):
            continue
        if parsed is not None:
            kind, index = parsed
            if view.calendar.periods(record.date).index(kind) != index:
                continue
        yield record


def explain_hours(f: Finding, context) -> list[str]:
    """The work records of the finding's pool and period, in the order read, with the running
    total and the record that crossed the cap; then the computed excess and its price."""
    view = context.views.get(f.contract) if f.contract else None
    pool = view.by_lob.get(f.lob) if view is not None and f.lob else None
    if pool is None:
        return []
    ledger = pool_ledger(pool)
    period = f.period
    service_filter = None
    cap = None
    if f.rule == "entitlement.allowance_hours":
        # the allowance is the one the crossing record's service counts toward (I-2)
        crossing = next((r for r in context.records(kind="work", contract=view.id) if r.id == f.record), None)
        key = allowance_key(pool, crossing.service) if crossing is not None else None
        if key is not None:
            members = {s for s in entitlement_terms(view.policy).items if allowance_key(pool, s) == key}
            service_filter = lambda r: r.service in members  # noqa: E731
            cap = allowance_cap(pool, key)
    elif period and "Q" in period:
        cap = ledger.quarterly_cap
    else:
        cap = ledger.annual_cap
    lines = [f"  contributing work records ({pool.id}, {period or 'all periods'}), in the order read:"]
    total = 0.0
    crossed = False
    for r in _work_in_period(context, view, pool, period, service_filter):
        total += r.hours
        mark = ""
        if cap is not None and not crossed and total - cap > 1e-9:
            crossed, mark = True, f"  <- crossed {cap:g} h"
        lines.append(f"    {r.date}  {r.id:<12} {r.lob:<12} {r.service:<36} {r.hours:>6g} h  running {total:>8g} h{mark}")
    if cap is not None:
        over = max(0.0, total - cap)
        line = f"  computed: {total:g} h - {cap:g} h = {over:g} h over"
        overage = view.contract.overage
        if overage is not None and overage.agreed:
            line += f"; x {overage.currency} {overage.rate:,.2f}/h = {overage.currency} {over * overage.rate:,.2f}"
        lines.append(line)
    return lines
