"""Expansion pack rules (Section 9, Table 9): eligibility, deployments, scope hours, timing, uses.

Scopes may come after the work that uses them, so whatever depends on a scope is
decided in ``finish`` (or per record when the scope is already known); the
running use is kept by :mod:`cso_policy.domains.expansion.ledger`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from attrs import evolve

from ...core.context import EPSILON, Audit, ContractView, Pool
from ...core.model import Level, Violation
from ...core.rule import fails, passes, rule
from ..entitlement.records import Work
from ..entitlement.rules import _h, _pool_name
from .budget import Budget, budget, counted_scopes, eligible, purchase_name, purchase_problem, uncovered_hours
from .ledger import pending_work, usage
from .records import ExpansionScope
from .terms import PER_DEPLOYMENT, expansion_terms


# ------------------------------------------------------------ examples

# The example contract's package p1 is Premier: Table 9 "2x Intermediate Deployments (includes
# up to 60 hours)", read per deployment (I-6); term 2026-01-01..2026-12-31 in New York.
_APPROVED = "2026-02-02T10:00:00-05:00"  # local date 2026-02-02


def _scope(id: str = "xs-1", hours: float = 60, *, pack: str = "intermediate", use: str = "new_line_of_business",
           approved_at: str = _APPROVED) -> dict:
    return {"kind": "expansion_scope", "id": id, "package": "p1", "pack": pack, "use": use, "hours": hours,
            "approved_at": approved_at}


def _work(id: str, day: str, hours: float, scope: str = "xs-1") -> dict:
    return {"kind": "work", "id": id, "date": day, "lob": "retail", "hours": hours, "service": "expansion",
            "expansion": scope}


def _bought(on: date, hours: float = 40, kind: str = "intermediate") -> dict:
    """The example contract as a renewal (of EX-2025) with one purchase of expansion hours for p1."""
    return {"renewal_of": "EX-2025",
            "expansion_purchases": [{"package": "p1", "kind": kind, "hours": hours, "purchased_on": on}]}


_RENEWAL = date(2026, 1, 1)  # the example term's start


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
    examples=[
        passes(_scope(), _work("w1", "2026-02-03", 10),
               note="Table 9: Premier includes intermediate deployments; an intermediate scope is eligible"),
        fails(_scope(pack="basic", hours=36), _work("w1", "2026-02-03", 10), flags=["xs-1"],
              note="Table 9: Premier has 2x Intermediate, not basic: the scope is not eligible (10 h worked on it)"),
        fails(_scope(pack="basic", hours=36), flags=["xs-1"], contract={"tier": "foundations"},
              note="Table 9: Foundations '–', no expansion packs at all"),
        passes(contract=_bought(_RENEWAL),
               note="Section 9: 40 h bought on 2026-01-01, the start of the renewal term: valid"),
        fails(flags=["-"], contract=_bought(date(2026, 3, 1)),
              note="Section 9 'purchased only upon renewal': 40 h bought mid-term on 2026-03-01 add nothing; the "
                   "finding names the contract, not a record"),
    ],
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
    examples=[
        passes(_scope("xs-1"), _scope("xs-2", approved_at="2026-03-02T10:00:00-05:00"),
               note="Table 9: Premier 2x Intermediate Deployments; 2 scopes use both"),
        fails(_scope("xs-1"), _scope("xs-2", approved_at="2026-03-02T10:00:00-05:00"),
              _scope("xs-3", 20, approved_at="2026-06-01T10:00:00-04:00"), flags=["xs-3"],
              note="Table 9: Premier 2 deployments; xs-3, approved third (06-01), is deployment 3 of 2"),
        passes(_scope("xs-1"), _scope("xs-2", approved_at="2026-03-02T10:00:00-05:00"),
               _scope("xs-3", 20, approved_at="2026-06-01T10:00:00-04:00"), contract=_bought(_RENEWAL),
               note="Table 9 + Section 9: 2 included + 1 purchased at the renewal start 2026-01-01 = 3 deployments"),
    ],
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
    examples=[
        passes(_scope(hours=60), _work("w1", "2026-02-03", 40), _work("w2", "2026-02-04", 20),
               note="Table 9 Premier intermediate deployment up to 60 h (I-6: per deployment): 60 h approved, "
                    "40 + 20 = 60 h worked"),
        fails(_scope(hours=61), flags=["xs-1"],
              note="Table 9 Premier intermediate deployment up to 60 h (I-6): 61 h approved is 1 h beyond"),
        fails(_scope(hours=50), _work("w1", "2026-02-03", 30), _work("w2", "2026-02-04", 20),
              _work("w3", "2026-02-05", 1), flags=["w3"],
              note="Section 9: 50 h approved; 30 + 20 = 50 h, then w3 makes 51 h: w3 crosses, 1 h over"),
        passes(_scope(hours=100), contract=_bought(_RENEWAL),
               note="Table 9 + Section 9: 60 h deployment + 40 h purchased at the renewal start = 100 h approved"),
    ],
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
    examples=[
        passes(_scope(approved_at="2026-03-10T23:30:00-04:00"), _work("w-10", "2026-03-10", 3),
               note="Section 9: approved 2026-03-10 23:30 New York; work on the approval day itself is fine"),
        fails(_scope(approved_at="2026-03-10T23:30:00-04:00"), _work("w-09", "2026-03-09", 2), flags=["w-09"],
              note="Section 9 'prior to LivePerson beginning any work': approved 2026-03-10, work dated 03-09"),
        passes(_scope(approved_at="2026-03-11T02:00:00+00:00"), _work("w-10", "2026-03-10", 3),
               note="Section 9: 2026-03-11T02:00Z is 2026-03-10 22:00 in New York, the local approval date: "
                    "work on 03-10 is on the approval day"),
        fails(_work("w-09", "2026-03-09", 2), _scope(approved_at="2026-03-10T23:30:00-04:00"), flags=["w-09"],
              note="Section 9: the same work before approval when the scope record comes after it"),
    ],
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
    examples=[
        passes(_scope(), _work("w-last", "2026-12-31", 3),
               note="Section 9: work on 2026-12-31, the last day of the term"),
        fails(_scope(), _work("w-after", "2027-01-01", 2), flags=["w-after"], as_of="2027-02-01T00:00:00Z",
              note="Section 9 'used by the end of the ... term and do not carry forward': work on 2027-01-01, "
                   "the day after the term end 2026-12-31"),
    ],
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
    examples=[
        fails(_scope(hours=20, use="training"), _work("w1", "2026-02-03", 16), flags=["xs-1"],
              note="Section 9: Expansion Pack hours cannot be used for training (16 h worked on the scope)"),
        fails(_scope(hours=20, use="insights_deployment"), flags=["xs-1"],
              note="Section 9: nor for deploying LivePerson Insights"),
        passes(_scope(hours=20, use="deployment_optimization"), _work("w1", "2026-02-03", 16),
               note="Section 9: deployment optimization requiring LivePerson technical resources is an allowed use"),
    ],
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
