"""What ``cso-policy entitlements`` shows of a package's expansion packs, and what
``cso-policy policies show`` prints of the expansion module (Section 9 and Table 9)."""

from __future__ import annotations

from datetime import date, datetime

from ...core.context import Pool
from ...core.sections import EntitlementSection
from .budget import budget, counted_scopes
from .ledger import usage
from .terms import PER_DEPLOYMENT, expansion_terms


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
    has_hours = d["included"] or d["purchased"]  # Foundations ('–') has no expansion hours to lapse
    if not lapse["carry_forward"] and has_hours:
        lines.append(f"    unused expansion hours lapse at the term end {lapse['term_end']}: {lapse['days_left']} days left")
    return lines


def sections(pool: Pool, moment: datetime) -> list[EntitlementSection]:
    summary = package_summary(pool, pool.contract.local_date(moment))
    return [EntitlementSection(key="expansion", data=summary, text=text(summary))]


def _param(policy, parameter: str) -> str:
    """A parameter's name with the reading (I-n) the manifest names it in: "hours_per, I-6"."""
    ids = [r.id for r in policy.manifest.readings if r.parameter == parameter]
    return ", ".join([parameter.partition(".")[2], *ids])


def policy_lines(terms, policy) -> list[str]:
    """What ``cso-policy policies show`` prints of the expansion module: Table 9 per tier, the
    packs' hours (I-6), purchases (I-10) and carry-forward, and the uses of Section 9."""
    packs = ", ".join(f"{kind} {pack.hours:g} h" for kind, pack in terms.packs.items())
    out = ["", f"Expansion packs ({terms.table}, {terms.clause})",
           f"  packs: {packs}, per {terms.hours_per} ({_param(policy, 'expansion.hours_per')}); "
           f"{'inside' if terms.inside_section_1_hours else 'on top of'} the Section 1 hours",
           "  additional hours: " + ("purchased only upon renewal, dated on the first day of the renewal term"
                                     if terms.purchase_only_at_renewal else "purchased on any day of the term")
           + f" ({_param(policy, 'expansion.purchase_only_at_renewal')}); unused hours "
           + ("carry forward" if terms.carry_forward else "lapse at the term end, no carry-forward")]
    for tier in policy.tiers:
        entry = terms.tiers.get(tier)
        included = terms.tier(tier)
        if included is None:
            what = "none"
        else:
            hours = terms.packs[included.pack].hours
            what = (f"{included.deployments} {included.pack} deployment(s) of {hours:g} h"
                    if terms.hours_per == PER_DEPLOYMENT else
                    f"{included.deployments} {included.pack} deployment(s) sharing {hours:g} h")
        cell = f"  [{entry.cell}]" if entry is not None and entry.cell else ""
        out.append(f"  {tier:<13} {what}{cell}")
    out += ["", f"Expansion Pack hours can be used for ({terms.clause})"]
    out += [f"  {use:<36} {text}" for use, text in terms.uses.allowed.items()]
    out += ["", f"Expansion Pack hours cannot be used for ({terms.clause})"]
    out += [f"  {use:<36} {text}" for use, text in terms.uses.disallowed.items()]
    return out
