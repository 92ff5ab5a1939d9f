"""Expansion pack rules (Section 9, Table 9): eligibility, deployments, scope hours, timing, uses.

Scopes may come after the work that uses them, so whatever depends on a scope is
decided in ``finish`` (or per record when the scope is already known); the
running use is kept by :mod:`cso_policy.domains.expansion.ledger`.
"""

from __future__ import annotations

from collections.abc import Iterator

from attrs import evolve

from ...core.context import EPSILON, Audit, ContractView, Pool
from ...core.model import Level, Violation
from ...core.rule import rule
from ..entitlement.records import Work
from ..entitlement.rules import _h, _pool_name
from .budget import Budget, budget, counted_scopes, eligible, purchase_name, purchase_problem, uncovered_hours
from .ledger import pending_work, usage
from .records import ExpansionScope
from .terms import PER_DEPLOYMENT, expansion_terms


def _pools(audit: Audit) -> Iterator[tuple[ContractView, Pool]]:
    for view in audit.contracts.values():
        if expansion_terms(view.policy) is not None:
            for pool in view.pools.values():
                yield view, pool


def _what_it_holds(plan: Budget) -> str:
    if plan.hours_per == PER_DEPLOYMENT:
        held = f"{plan.included} {plan.pack} deployment(s) of {_h(plan.pack_hours)} h each"
    else:
        held = f"{plan.included} {plan.pack} deployment(s) sharing {_h(plan.pack_hours)} h"
    return held + (f", {_h(plan.purchased_hours)} h purchased" if plan.purchased else "")


# ------------------------------------------------------------ not eligible


def _scopes(audit: Audit) -> Iterator[tuple[ContractView, Pool, ExpansionScope, float]]:
    """Every known scope with its package and the in-term hours worked on it."""
    for view in audit.contracts.values():
        if expansion_terms(view.policy) is None:
            continue
        for use in usage(view).uses.values():
            if use.scope is not None:
                yield view, view.pools[use.scope.package], use.scope, use.tally.total


def _scope_finding(view: ContractView, scope: ExpansionScope, worked: float, what: str) -> Violation:
    return Violation(
        record=scope,
        contract=view.id,
        message=f"expansion scope {scope.id} ({scope.pack}, {_h(scope.hours)} h approved, {_h(worked)} h worked): {what}",
        impact=view.money(worked),
    )


def _purchases_not_eligible(view: ContractView):
    for index, purchase in enumerate(view.contract.expansion_purchases):
        why = purchase_problem(purchase, view)
        if why is not None:
            yield Violation(
                contract=view.id,
                source=view.contract.path or None,
                message=f"{purchase_name(index, purchase)} adds no expansion hours: {why}",
                impact=view.money(purchase.hours),
            )


@rule(
    "expansion.not_eligible",
    "An expansion scope or purchase the package is not entitled to",
    "Table 9",
    Level.ERROR,
    finish=True,
)
def not_eligible(audit: Audit):
    """A scope on a tier without expansion packs (Foundations) or of a pack kind the tier does
    not include (impact: the hours worked on it); and a purchase of additional hours that is not
    at the start of a renewal term, or for a package or pack kind without packs: it adds
    nothing, and the finding names the contract."""
    for view, pool, scope, worked in _scopes(audit):
        if eligible(scope, view, pool):
            continue
        terms = expansion_terms(view.policy)
        packs = terms.tier(pool.tier)
        why = (
            f"includes no expansion packs ({terms.table}: '–')"
            if packs is None
            else f"includes {packs.deployments} {packs.pack} deployment(s), not {scope.pack}"
        )
        yield _scope_finding(view, scope, worked, f"the {pool.tier} package {pool.id} {why}")
    for view in audit.contracts.values():
        if expansion_terms(view.policy) is not None:
            yield from _purchases_not_eligible(view)


# ------------------------------------------------------------ deployments and hours


@rule(
    "expansion.deployments_exceeded",
    "More expansion scopes than the package's deployments",
    "Table 9",
    Level.ERROR,
    finish=True,
)
def deployments_exceeded(audit: Audit):
    """Scopes of a package in approval order against its included deployments plus valid
    purchases; each scope beyond them is named (impact: the hours worked on it)."""
    for view, pool in _pools(audit):
        plan = budget(view, pool)
        uses = usage(view).uses
        scopes = counted_scopes(view, pool)
        for number, scope in enumerate(scopes[plan.deployments:], start=plan.deployments + 1):
            what = (
                f"deployment {number} of {_pool_name(pool)}, entitled to {plan.deployments} "
                f"({plan.included} included, {plan.purchased} purchased at renewal)"
            )
            yield _scope_finding(view, scope, uses[scope.id].tally.total, what)


def _approved_beyond(view: ContractView, pool: Pool):
    for scope, beyond, plan in uncovered_hours(view, pool):
        if beyond > EPSILON:
            yield Violation(
                record=scope,
                contract=view.id,
                message=(
                    f"expansion scope {scope.id} approves {_h(scope.hours)} h, {_h(beyond)} h more than "
                    f"{_pool_name(pool)} holds ({_what_it_holds(plan)}; I-6: hours per {plan.hours_per})"
                ),
                impact=view.money(beyond),
            )


def _worked_beyond(view: ContractView):
    for scope_id, use in sorted(usage(view).uses.items()):
        tally = use.tally
        if use.scope is None or tally.crossing is None:
            continue
        yield Violation(
            record=tally.crossing,
            contract=view.id,
            message=(
                f"{_h(tally.total)} h worked on expansion scope {scope_id}, approved {_h(tally.cap)} h: "
                f"{_h(tally.over)} h over; record {tally.crossing.id} crossed the approved hours"
            ),
            impact=view.money(tally.over),
        )


@rule(
    "expansion.over_scope",
    "Work beyond a scope's approved hours, or approved hours beyond the deployment's",
    "Section 9",
    Level.ERROR,
    finish=True,
)
def over_scope(audit: Audit):
    """In-term work hours per scope against its approved hours (names the record that crossed);
    and each scope's approved hours against its deployment's hours (I-6) plus the hours the
    package purchased at renewal, allotted in approval order."""
    for view, pool in _pools(audit):
        yield from _approved_beyond(view, pool)
    for view in audit.contracts.values():
        if expansion_terms(view.policy) is not None:
            yield from _worked_beyond(view)


# ------------------------------------------------------------ timing


def _before(scope: ExpansionScope, work: Work, view: ContractView) -> Violation | None:
    approved = view.local_date(scope.approved_at)
    if work.date >= approved or not view.calendar.in_term(work.date):
        return None
    return Violation(
        record=work,
        contract=view.id,
        message=(
            f"work dated {work.date} on expansion scope {scope.id}, which was approved on {approved} "
            f"({view.contract.timezone}): no work may begin before the scope is approved"
        ),
        impact=view.money(work.hours),
    )


def _pending_before_approval(audit: Audit):
    for view in audit.contracts.values():
        if expansion_terms(view.policy) is None:
            continue
        for scope, work in pending_work(view):
            found = _before(scope, work, view)
            if found is not None:
                yield found


@rule(
    "expansion.before_approval",
    "Expansion work dated before its scope was approved",
    "Section 9",
    Level.ERROR,
    kinds=("work",),
)
def _work_before_approval(record: Work, view: ContractView, pool: Pool, audit: Audit):
    """The work date against the local date of the scope's approved_at in the contract time
    zone; work on the approval day itself is fine."""
    if record.expansion is None or expansion_terms(view.policy) is None:
        return None
    use = usage(view).uses.get(record.expansion)
    if use is None or use.scope is None:  # the scope comes later: decided at finish
        return None
    found = _before(use.scope, record, view)
    return (found,) if found is not None else None


before_approval = evolve(_work_before_approval, finish=_pending_before_approval)


@rule(
    "expansion.after_term",
    "Expansion work after the term end (no carry-forward)",
    "Section 9",
    Level.ERROR,
    kinds=("work",),
)
def after_term(record: Work, view: ContractView, pool: Pool, audit: Audit):
    """Expansion hours must be used by the end of the term and do not carry forward; such work
    is reported here rather than as entitlement.outside_term."""
    if record.expansion is None:
        return None
    terms = expansion_terms(view.policy)
    end = view.contract.term.end
    if record.date <= end or (terms is not None and terms.carry_forward):
        return None
    return (
        Violation(
            record=record,
            message=(
                f"expansion work dated {record.date} on scope {record.expansion} is after the term end {end}: "
                "expansion hours must be used within the term and do not carry forward"
            ),
            impact=view.money(record.hours),
        ),
    )


# ------------------------------------------------------------ uses


@rule(
    "expansion.disallowed_use",
    "An expansion scope for a use Expansion Pack hours cannot be used for",
    "Section 9",
    Level.ERROR,
    finish=True,
)
def disallowed_use(audit: Audit):
    """Operational tuning, training, custom development by LivePerson, deploying Insights
    (impact: the hours worked on the scope)."""
    for view, _pool, scope, worked in _scopes(audit):
        disallowed = expansion_terms(view.policy).uses.disallowed
        if scope.use in disallowed:
            what = f"its use {scope.use} is one Expansion Pack hours cannot be used for ({disallowed[scope.use]})"
            yield _scope_finding(view, scope, worked, what)


RULES = (not_eligible, deployments_exceeded, over_scope, before_approval, after_term, disallowed_use)
