"""What ``cso-policy entitlements`` shows of a package's SLA (its tier's Table 8 targets) and
what ``cso-policy policies show`` prints of the sla module (Tables 7 and 8)."""

from __future__ import annotations

from datetime import datetime

from ...core.context import Pool
from ...core.sections import EntitlementSection
from .terms import WEEKDAYS, sla_terms

WEEKDAY_NAMES = dict(enumerate(WEEKDAYS))

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


def _param(policy, parameter: str) -> str:
    """A parameter's name with the reading (I-n) the manifest names it in: "units.day_hours, I-3"."""
    ids = [r.id for r in policy.manifest.readings if r.parameter == parameter]
    return ", ".join([parameter.partition(".")[2], *ids])


def policy_lines(terms, policy) -> list[str]:
    """What ``cso-policy policies show`` prints of the sla module: the severities of Table 7, and
    the Table 8 targets of every tier with their units and readings (I-3, I-4, I-5)."""
    out = ["", f"Severity levels ({terms.severity_clause})"]
    for sev in terms.severities:
        definition = terms.definitions.get(sev)
        out.append(f"  {sev}: {definition}" if definition else f"  {sev}")
    out.append(f"  security incidents ({terms.security_definition}) are {terms.security_severity}")
    out += ["", f"Enhanced support service levels ({terms.clause})",
            f"  a day of a response, update or resolution target is {terms.day_hours:g} h of elapsed time "
            f"({_param(policy, 'sla.units.day_hours')})",
            f"  RCA due: {terms.rca_due.replace('_', ' ')}; business days exclude "
            f"{', '.join(WEEKDAY_NAMES[d] for d in sorted(terms.weekend))}"
            f"{' and the public holidays of the contract’s holidays country' if terms.public_holidays else ''} "
            f"({_param(policy, 'sla.rca.due')})",
            f"  severity change: {terms.mode} ({_param(policy, 'sla.severity_change.mode')})"]
    for tier in policy.tiers:
        targets = terms.targets(tier)
        if targets is None:
            out.append(f"  {tier:<13} none (no enhanced SLA)")
            continue
        for sev, cell in targets.items():
            found = dict(cell.items())
            cells = ", ".join(f"{name} {found[clock].text if clock in found else 'N/A'}" for clock, name in _CLOCK_LABELS)
            out.append(f"  {tier:<13} {sev}: {cells}")
    if terms.clock_definitions:
        out += ["", f"What each clock measures ({terms.clause} footnotes)"]
        out += [f"  {clock}: {text}" for clock, text in terms.clock_definitions.items()]
    return out
