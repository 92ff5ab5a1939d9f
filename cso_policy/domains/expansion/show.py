"""What ``cso-policy entitlements`` shows of a package's expansion packs."""

from __future__ import annotations

from datetime import date, datetime

from ...core.context import Pool
from ...core.sections import EntitlementSection
from .budget import budget, counted_scopes
from .ledger import usage
from .terms import expansion_terms


def package_summary(pool: Pool, today: date) -> dict | None:
    """Deployments included/used, hours per scope, and the days before unused hours lapse."""
    view = pool.contract
    terms = expansion_terms(view.policy)
    if terms is None:
        return None
    plan = budget(view, pool)
    led = usage(view)
    scopes = []
    for scope in sorted((s for s in led.scopes() if s.package == pool.id), key=lambda s: (s.approved_at, s.id)):
        used = led.uses[scope.id].tally.total
        scopes.append({
            "id": scope.id, "pack": scope.pack, "use": scope.use,
            "approved_on": view.local_date(scope.approved_at).isoformat(),
            "hours": scope.hours, "used": round(used, 4), "left": round(max(0.0, scope.hours - used), 4),
        })
    end = view.contract.term.end
    return {
        "clause": f"{terms.clause}, {terms.table}",
        "pack": plan.pack,
        "deployments": {"included": plan.included, "purchased": plan.purchased,
                        "used": len(counted_scopes(view, pool))},
        "hours": {"per": terms.hours_per, "pack": plan.pack_hours, "included": plan.included_hours,
                  "purchased": plan.purchased_hours},
        "scopes": scopes,
        "lapse": {"term_end": end.isoformat(),
                  "days_left": max(0, (end - today).days),
                  "carry_forward": terms.carry_forward},
    }


def _n(x) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def text(x: dict | None) -> list[str]:
    if x is None:
        return []
    d, h = x["deployments"], x["hours"]
    if x["pack"] is None:
        lines = [f"  expansion packs ({x['clause']}): none"]
    else:
        lines = [f"  expansion packs ({x['clause']}): {d['included']} {x['pack']} deployment(s) of {_n(h['pack'])} h "
                 f"per {h['per']}, {d['purchased']} purchased ({_n(h['purchased'])} h); deployments used {d['used']}"]
    for s in x["scopes"]:
        lines.append(f"    scope {s['id']} {s['pack']} {s['use']} approved {s['approved_on']}: used {_n(s['used'])} of "
                     f"{_n(s['hours'])} h, left {_n(s['left'])}")
    lapse = x["lapse"]
    if not lapse["carry_forward"]:
        lines.append(f"    unused expansion hours lapse at the term end {lapse['term_end']}: {lapse['days_left']} days left")
    return lines


def sections(pool: Pool, moment: datetime) -> list[EntitlementSection]:
    summary = package_summary(pool, pool.contract.local_date(moment))
    return [EntitlementSection(key="expansion", data=summary, text=text(summary))]
