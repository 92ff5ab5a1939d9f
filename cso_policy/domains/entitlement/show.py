"""What ``cso-policy entitlements`` shows of a package's entitlement: hours and allowances
used and left in the current period, the items of Tables 2-5 and 10, and the channels."""

from __future__ import annotations

from datetime import datetime

from ...core.context import Pool
from ...core.sections import EntitlementSection
from .ledger import allowance_cap, cell, pool_ledger
from .terms import BLANK, LIMITED, NOT_INCLUDED, entitlement_terms

PERIOD_NAMES = {"half": "half-year"}


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
        if found.blank:
            row["blank"] = True  # the terms leave the cell blank; "terms" is its reading (I-9)
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
        word = f"{item['terms']} (blank)" if item.get("blank") else item["terms"]
        lines.append(f"    {item['id']:<36} {word:<20}{usage}")
    excluded = [i["id"] for i in items if i["status"] == NOT_INCLUDED]
    if excluded:
        lines.append(f"  not included: {', '.join(excluded)}")
    return lines


def _channels_text(channels: dict[str, bool]) -> list[str]:
    yes = [c for c, ok in channels.items() if ok]
    no = [c for c, ok in channels.items() if not ok]
    return [f"  support channels: {', '.join(yes)}{'; not included: ' + ', '.join(no) if no else ''}"]


def _word_meaning(meaning) -> str:
    if not meaning.included:
        return "not included"
    if meaning.additional_cost:
        return "available, billed separately (additional cost)"
    if meaning.unlimited:
        return "included, no count limit"
    return f"at most {meaning.max} per contract {PERIOD_NAMES.get(meaning.period, meaning.period)}"


def _cell_text(terms, item_id: str, tier: str) -> str:
    word = terms.items[item_id].cells.get(tier, "–")
    if word != BLANK:
        return word
    return f"(blank: {terms.blank_reading(item_id, tier) or '?'})"


def policy_lines(terms, policy) -> list[str]:
    """What ``cso-policy policies show`` prints of the entitlement module: Section 1 hours,
    overage and T&E, the frequency words (I-8) and the level of an overrun (I-7), every item of
    Tables 2-5 and 10 per tier with the blank cells' readings (I-9), the allowances, the support
    channels and Table 6 support with the conditions of their cells."""
    tiers = terms.tiers
    header = ", ".join(tiers)
    out = ["", "Section 1 hours"]
    for tier in tiers:
        out.append(f"  {tier:<13} {terms.hours.per_quarter[tier]:>6g} h/quarter  {terms.hours.per_year[tier]:>6g} h/year")
    out.append(f"  overage: {terms.overage.formula}"
               f"{', at a rate agreed in writing' if terms.overage.requires_written_rate else ''}"
               f"; T&E {'needs the customer’s advance approval' if terms.expenses.requires_advance_approval else 'billed as incurred'}")
    out.append("  work on an item 'At Additional Costs' "
               + ("counts toward these hours" if terms.hours.count_additional_cost
                  else "is billed separately and does not use these hours")
               + f" ({_param(policy, 'entitlement.hours.count_additional_cost')})")
    out += ["", f"Frequency words ({_param(policy, 'entitlement.frequencies')}; contract periods from the "
                f"{terms.periods.anchor.replace('_', ' ')}, {_param(policy, 'entitlement.periods.anchor')})"]
    for word, meaning in terms.frequencies.items():
        out.append(f"  {word!r:<22} {_word_meaning(meaning)}")
    if terms.frequency_overrun is None:
        out += ["", "A delivery beyond its frequency",
                "  every table: the level of the rule entitlement.frequency (this version has no frequency_overrun)"]
    else:
        out += ["", f"A delivery beyond its frequency ({_param(policy, 'entitlement.frequency_overrun.level')})"]
        for clause, level in terms.frequency_overrun.level.items():
            out.append(f"  {clause:<9} {level}")
    out += ["", "Deliverables and services (" + header + ")"]
    for item_id, item in terms.items.items():
        extra = "  [international travel: additional surcharge]" if item.international_surcharge else ""
        out.append(f"  {item_id:<38} {item.clause:<9} " + " | ".join(_cell_text(terms, item_id, t) for t in tiers) + extra)
    if terms.blank_cells is not None:
        blanks = terms.blank_cells
        out += ["", f"Blank cells of {blanks.clause} and how each is read ({_param(policy, 'entitlement.blank_cells')})"]
        for item_id, cells in blanks.cells.items():
            for word, group in _group(cells).items():
                out.append(f"  {item_id:<38} {', '.join(group)}: read as {word!r}")
        out.append(f"  why: {blanks.reading}")
    out += ["", "Allowances (hours per contract year)"]
    for name, allowance in terms.allowances.items():
        out.append(f"  {name:<38} {allowance.clause:<9} "
                   + " | ".join(f"{allowance.hours[t]:g}" if t in allowance.hours else "–" for t in tiers)
                   + f"  [{allowance.scope}]")
    out += ["", "Support channels (" + header + ")"]
    for name, channel in terms.channels.items():
        condition = f"  ({channel.condition})" if channel.condition else ""
        out.append(f"  {name:<38} {channel.clause:<9} " + " | ".join(channel.cells.get(t, "–") for t in tiers) + condition)
    support = terms.support
    out += ["", f"Support ({support.clause}; " + header + ")"]
    for name, cells in (("business_critical_24x7", support.business_critical_24x7), ("enhanced_sla", support.enhanced_sla)):
        condition = f"  ({support.conditions[name]})" if name in support.conditions else ""
        out.append(f"  {name:<38} {support.clause:<9} " + " | ".join(cells.get(t, "–") for t in tiers) + condition)
    return out


def _param(policy, parameter: str) -> str:
    """A parameter's name with the reading (I-n) the manifest names it in: "blank_cells, I-9"."""
    ids = [r.id for r in policy.manifest.readings if r.parameter == parameter]
    name = parameter.partition(".")[2]
    return ", ".join([name, *ids])


def _group(cells: dict[str, str]) -> dict[str, list[str]]:
    """tier -> word, as word -> [tiers] in the order given."""
    out: dict[str, list[str]] = {}
    for tier, word in cells.items():
        out.setdefault(word, []).append(tier)
    return out
