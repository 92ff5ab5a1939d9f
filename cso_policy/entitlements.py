"""`cso-policy entitlements`: per package, what it includes, what is used and what is left."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TextIO

from .context import ContractView, Pool
from .expansion import package_summary
from .ledger import allowance_cap
from .policy import LIMITED
from .sla import targets_table


def _current_day(view: ContractView, moment: datetime):
    day = view.local_date(moment)
    term = view.contract.term
    return min(max(day, term.start), term.end)


def _left(cap: float, used: float) -> float:
    return round(max(0.0, cap - used), 4)


def pool_table(pool: Pool, moment: datetime) -> dict:
    view = pool.contract
    cal = view.calendar
    day = _current_day(view, moment)
    periods = cal.periods(day)
    q_used = pool.quarters[periods.quarter].total if periods.quarter in pool.quarters else 0.0
    y_used = pool.years[periods.year].total if periods.year in pool.years else 0.0
    terms = view.policy.entitlement
    allowances = []
    for allowance_id, allowance in terms.allowances.items():
        if pool.tier not in allowance.hours:
            continue
        keys = {k for (k, y) in pool.allowances if y == periods.year and k.partition(":")[0] == allowance_id}
        used = sum(pool.allowances[(k, periods.year)].total for k in keys)
        cap = allowance_cap(pool, allowance_id)
        allowances.append({"id": allowance_id, "name": allowance.name, "clause": allowance.clause,
                           "period": cal.label("year", periods.year), "hours": cap, "used": round(used, 4),
                           "left": _left(cap, used)})
    items = []
    for item_id, item in terms.items.items():
        cell = pool.cell(item_id)
        row = {"id": item_id, "name": item.name, "clause": item.clause, "terms": cell.word, "status": cell.status}
        if cell.status == LIMITED:
            index = periods.index(cell.period)
            used = pool.deliveries.get((item_id, cell.period, index), 0)
            row.update(period=cal.label(cell.period, index), max=cell.max, used=used, left=max(0, cell.max - used))
        items.append(row)
    channels = {name: view.policy.channel_included(pool.tier, name) for name in terms.channels}
    return {
        "package": pool.id,
        "tier": pool.tier,
        "lines_of_business": pool.lobs,
        "hours": {
            "quarter": {"period": cal.label("quarter", periods.quarter), "cap": pool.quarterly_cap,
                        "used": round(q_used, 4), "left": _left(pool.quarterly_cap, q_used)},
            "year": {"period": cal.label("year", periods.year), "cap": pool.annual_cap,
                     "used": round(y_used, 4), "left": _left(pool.annual_cap, y_used)},
        },
        "allowances": allowances,
        "items": items,
        "channels": channels,
        "expansion": package_summary(pool, view.local_date(moment)),
        "sla": targets_table(view.policy, pool.tier),
    }


def entitlement_table(view: ContractView, moment: datetime) -> dict:
    c = view.contract
    return {
        "contract": c.id,
        "customer": c.customer,
        "policy": view.policy_ref,
        "term": {"start": c.term.start.isoformat(), "end": c.term.end.isoformat()},
        "as_of": _current_day(view, moment).isoformat(),
        "packages": [pool_table(pool, moment) for pool in view.pools.values()],
    }


def _n(x) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def write_entitlements(table: dict, stream: TextIO, fmt: str = "text") -> None:
    if fmt == "json":
        stream.write(json.dumps(table, indent=2) + "\n")
        return
    w = stream.write
    w(f"{table['contract']} {table['customer']} ({table['policy']}), term {table['term']['start']}..{table['term']['end']}, as of {table['as_of']}\n")
    for p in table["packages"]:
        w(f"\npackage {p['package']}: {p['tier']}; lines of business: {', '.join(p['lines_of_business'])}\n")
        for span, h in p["hours"].items():
            w(f"  hours {span:<8} {h['period']:<8} used {_n(h['used']):>7} of {_n(h['cap'])}, left {_n(h['left'])}\n")
        for a in p["allowances"]:
            w(f"  allowance {a['name']} ({a['clause']}) {a['period']}: used {_n(a['used'])} of {_n(a['hours'])} h, left {_n(a['left'])}\n")
        w("  deliverables and services:\n")
        for item in p["items"]:
            if item["status"] == "not_included":
                continue
            usage = ""
            if "max" in item:
                usage = f"  {item['period']}: used {item['used']} of {item['max']}, left {item['left']}"
            w(f"    {item['id']:<36} {item['terms']:<20}{usage}\n")
        excluded = [i["id"] for i in p["items"] if i["status"] == "not_included"]
        if excluded:
            w(f"  not included: {', '.join(excluded)}\n")
        yes = [c for c, ok in p["channels"].items() if ok]
        no = [c for c, ok in p["channels"].items() if not ok]
        w(f"  support channels: {', '.join(yes)}{'; not included: ' + ', '.join(no) if no else ''}\n")
        if p.get("expansion") is not None:
            _write_expansion(w, p["expansion"])
        if p.get("sla") is not None:
            _write_sla(w, p["sla"])


def _write_expansion(w, x: dict) -> None:
    d, h = x["deployments"], x["hours"]
    if x["pack"] is None:
        w(f"  expansion packs ({x['clause']}): none\n")
    else:
        w(f"  expansion packs ({x['clause']}): {d['included']} {x['pack']} deployment(s) of {_n(h['pack'])} h "
          f"per {h['per']}, {d['purchased']} purchased ({_n(h['purchased'])} h); deployments used {d['used']}\n")
    for s in x["scopes"]:
        w(f"    scope {s['id']} {s['pack']} {s['use']} approved {s['approved_on']}: used {_n(s['used'])} of "
          f"{_n(s['hours'])} h, left {_n(s['left'])}\n")
    lapse = x["lapse"]
    if not lapse["carry_forward"]:
        w(f"    unused expansion hours lapse at the term end {lapse['term_end']}: {lapse['days_left']} days left\n")


def _write_sla(w, sla: dict) -> None:
    if not sla["enhanced"]:
        w(f"  SLA targets ({sla['clause']}): none (no enhanced SLA)\n")
        return
    w(f"  SLA targets ({sla['clause']}; severity changes: {sla['severity_change']}):\n")
    for row in sla["targets"]:
        cells = ", ".join(f"{name} {row[clock]['text'] if clock in row else 'N/A'}" for clock, name in _SLA_CLOCKS)
        w(f"    {row['severity']}: {cells}\n")


_SLA_CLOCKS = (("response", "response"), ("periodic_update", "update every"),
               ("resolution", "non-bug resolution"), ("rca", "RCA"))
