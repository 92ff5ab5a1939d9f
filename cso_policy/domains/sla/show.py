"""What ``cso-policy entitlements`` shows of a package's SLA: its tier's Table 8 targets."""

from __future__ import annotations

from datetime import datetime

from ...core.context import Pool
from ...core.sections import EntitlementSection
from .terms import sla_terms

_CLOCK_LABELS = (("response", "response"), ("periodic_update", "update every"),
                 ("resolution", "non-bug resolution"), ("rca", "RCA"))


def targets_table(policy, tier: str) -> dict | None:
    """The tier's Table 8 targets (None without an sla module)."""
    terms = sla_terms(policy)
    if terms is None:
        return None
    tier_targets = terms.targets(tier)
    rows = [
        {"severity": sev, **{clock: target.as_dict() for clock, target in cell.items()}}
        for sev, cell in (tier_targets or {}).items()
    ]
    enhanced = tier_targets is not None
    return {"clause": terms.clause, "enhanced": enhanced, "severity_change": terms.mode, "targets": rows}


def text(sla: dict | None) -> list[str]:
    if sla is None:
        return []
    if not sla["enhanced"]:
        return [f"  SLA targets ({sla['clause']}): none (no enhanced SLA)"]
    lines = [f"  SLA targets ({sla['clause']}; severity changes: {sla['severity_change']}):"]
    for row in sla["targets"]:
        cells = ", ".join(f"{name} {row[clock]['text'] if clock in row else 'N/A'}" for clock, name in _CLOCK_LABELS)
        lines.append(f"    {row['severity']}: {cells}")
    return lines


def sections(pool: Pool, moment: datetime) -> list[EntitlementSection]:
    table = targets_table(pool.contract.policy, pool.tier)
    return [EntitlementSection(key="sla", data=table, text=text(table))]
