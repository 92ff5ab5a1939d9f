"""What ``cso-policy entitlements`` shows of a package's entitlement: hours and allowances
used and left in the current period, the items of Tables 2-5 and 10, and the channels."""

from __future__ import annotations

from datetime import datetime

from ...core.context import Pool
from ...core.sections import EntitlementSection
from .ledger import allowance_cap, cell, pool_ledger
from .terms import LIMITED, NOT_INCLUDED, entitlement_terms


def _left(cap: float, used: float) -> float:
    return round(max(0.0, cap - used), 4)


def _n(x) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def sections(pool: Pool, moment: datetime) -> list[EntitlementSection]:
    view = pool.contract
    cal = view.calendar
    periods = cal.periods(view.term_day(moment))
    ledger = pool_ledger(pool)
    q_used = ledger.quarters[periods.quarter].total if periods.quarter in ledger.quarters else 0.0
    y_used = ledger.years[periods.year].total if periods.year in ledger.years else 0.0
    terms = entitlement_terms(view.policy)
    hours = {
        "quarter": {"period": cal.label("quarter", periods.quarter), "cap": ledger.quarterly_cap,
                    "used": round(q_used, 4), "left": _left(ledger.quarterly_cap, q_used)},
        "year": {"period": cal.label("year", periods.year), "cap": ledger.annual_cap,
                 "used": round(y_used, 4), "left": _left(ledger.annual_cap, y_used)},
    }
    allowances = []
    for allowance_id, allowance in terms.allowances.items():
        if pool.tier not in allowance.hours:
            continue
        keys = {k for (k, y) in ledger.allowances if y == periods.year and k.partition(":")[0] == allowance_id}
        used = sum(ledger.allowances[(k, periods.year)].total for k in keys)
        cap = allowance_cap(pool, allowance_id)
        allowances.append({"id": allowance_id, "name": allowance.name, "clause": allowance.clause,
                           "period": cal.label("year", periods.year), "hours": cap, "used": round(used, 4),
                           "left": _left(cap, used)})
    items = []
    for item_id, item in terms.items.items():
        found = cell(pool, item_id)
        row = {"id": item_id, "name": item.name, "clause": item.clause, "terms": found.word, "status": found.status}
        if found.status == LIMITED:
            index = periods.index(found.period)
            used = ledger.deliveries.get((item_id, found.period, index), 0)
            row.update(period=cal.label(found.period, index), max=found.max, used=used, left=max(0, found.max - used))
        items.append(row)
    channels = {name: terms.channel_included(pool.tier, name) for name in terms.channels}
    return [
        EntitlementSection(key="hours", data=hours, text=[
            f"  hours {span:<8} {h['period']:<8} used {_n(h['used']):>7} of {_n(h['cap'])}, left {_n(h['left'])}"
            for span, h in hours.items()]),
        EntitlementSection(key="allowances", data=allowances, text=[
            f"  allowance {a['name']} ({a['clause']}) {a['period']}: used {_n(a['used'])} of {_n(a['hours'])} h, left {_n(a['left'])}"
            for a in allowances]),
        EntitlementSection(key="items", data=items, text=_items_text(items)),
        EntitlementSection(key="channels", data=channels, text=_channels_text(channels)),
    ]


def _items_text(items: list[dict]) -> list[str]:
    lines = ["  deliverables and services:"]
    for item in items:
        if item["status"] == NOT_INCLUDED:
            continue
        usage = f"  {item['period']}: used {item['used']} of {item['max']}, left {item['left']}" if "max" in item else ""
        lines.append(f"    {item['id']:<36} {item['terms']:<20}{usage}")
    excluded = [i["id"] for i in items if i["status"] == NOT_INCLUDED]
    if excluded:
        lines.append(f"  not included: {', '.join(excluded)}")
    return lines


def _channels_text(channels: dict[str, bool]) -> list[str]:
    yes = [c for c, ok in channels.items() if ok]
    no = [c for c, ok in channels.items() if not ok]
    return [f"  support channels: {', '.join(yes)}{'; not included: ' + ', '.join(no) if no else ''}"]


def policy_lines(terms, policy) -> list[str]:
    """What ``cso-policy policies show`` prints of the entitlement module."""
    tiers = terms.tiers
    out = ["", "Section 1 hours"]
    for tier in tiers:
        out.append(f"  {tier:<13} {terms.hours.per_quarter[tier]:>6g} h/quarter  {terms.hours.per_year[tier]:>6g} h/year")
    out += ["", "Deliverables and services (" + ", ".join(tiers) + ")"]
    for item_id, item in terms.items.items():
        out.append(f"  {item_id:<38} {item.clause:<9} " + " | ".join(item.cells.get(t, "–") for t in tiers))
    out += ["", "Allowances (hours per contract year)"]
    for name, allowance in terms.allowances.items():
        out.append(f"  {name:<38} {allowance.clause:<9} "
                   + " | ".join(f"{allowance.hours[t]:g}" if t in allowance.hours else "–" for t in tiers))
    out += ["", "Support channels"]
    for name, channel in terms.channels.items():
        out.append(f"  {name:<38} {channel.clause:<9} " + " | ".join(channel.cells.get(t, "–") for t in tiers))
    return out
