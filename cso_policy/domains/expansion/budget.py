"""What a package may use of expansion packs: included deployments plus valid purchases
(Table 9, Section 9), and how approved scope hours are covered (I-6)."""

from __future__ import annotations

from collections.abc import Iterator

from attrs import frozen

from ...core.context import ContractView, Pool
from ...core.model import ExpansionPurchase
from .ledger import usage
from .records import ExpansionScope
from .terms import PER_DEPLOYMENT, expansion_terms


def purchase_problem(purchase: ExpansionPurchase, view: ContractView) -> str | None:
    """Why a purchase of additional expansion hours adds nothing, or None when it is valid."""
    terms = expansion_terms(view.policy)
    pool = view.pools.get(purchase.package)
    if pool is None:
        return f"names no package of contract {view.id}"
    packs = terms.tier(pool.tier)
    if packs is None:
        return f"the {pool.tier} package {pool.id} includes no expansion packs ({terms.table}: '–')"
    if purchase.kind != packs.pack:
        return f"the {pool.tier} package {pool.id} has {packs.pack} deployments, not {purchase.kind} ({terms.table})"
    term = view.contract.term
    if not terms.purchase_only_at_renewal:
        return None if view.calendar.in_term(purchase.purchased_on) else f"dated outside the term {term.start}..{term.end}"
    if view.contract.renewal_of is None:
        return f"additional expansion hours may be purchased only upon renewal, and contract {view.id} names no renewal_of"
    if purchase.purchased_on != term.start:
        return f"additional expansion hours may be purchased only upon renewal: dated {purchase.purchased_on}, not the renewal term start {term.start}"
    return None


def purchase_name(index: int, purchase: ExpansionPurchase) -> str:
    return (
        f"expansion_purchases[{index}] ({purchase.package}, {purchase.hours:g} h {purchase.kind}, "
        f"purchased on {purchase.purchased_on})"
    )


def valid_purchases(view: ContractView, pool: Pool) -> list[ExpansionPurchase]:
    return [
        p for p in view.contract.expansion_purchases if p.package == pool.id and purchase_problem(p, view) is None
    ]


@frozen
class Budget:
    """What one package may use: its included deployments plus the valid purchases."""

    pack: str | None
    included: int
    purchased: int
    pack_hours: float  # per deployment or per pack, as hours_per says
    purchased_hours: float
    hours_per: str

    @property
    def deployments(self) -> int:
        return self.included + self.purchased

    @property
    def included_hours(self) -> float:
        return self.pack_hours * self.included if self.hours_per == PER_DEPLOYMENT else self.pack_hours


def budget(view: ContractView, pool: Pool) -> Budget:
    terms = expansion_terms(view.policy)
    packs = terms.tier(pool.tier)
    bought = valid_purchases(view, pool) if packs is not None else []
    return Budget(
        pack=packs.pack if packs else None,
        included=packs.deployments if packs else 0,
        purchased=len(bought),
        pack_hours=terms.packs[packs.pack].hours if packs else 0.0,
        purchased_hours=sum(p.hours for p in bought),
        hours_per=terms.hours_per,
    )


def eligible(scope: ExpansionScope, view: ContractView, pool: Pool) -> bool:
    """The package has packs of the scope's kind (expansion.not_eligible otherwise)."""
    packs = expansion_terms(view.policy).tier(pool.tier)
    return packs is not None and packs.pack == scope.pack


def counted_scopes(view: ContractView, pool: Pool) -> list[ExpansionScope]:
    """The package's scopes that take a deployment, in approval order. Scopes already
    reported as not eligible or as a disallowed use are left out, so that one deviation
    is one finding and does not push a later scope over the count."""
    disallowed = expansion_terms(view.policy).uses.disallowed
    scopes = [
        s for s in usage(view).scopes()
        if s.package == pool.id and eligible(s, view, pool) and s.use not in disallowed
    ]
    return sorted(scopes, key=lambda s: (s.approved_at, s.id))


def uncovered_hours(view: ContractView, pool: Pool) -> Iterator[tuple[ExpansionScope, float, Budget]]:
    """Each scope within the entitled deployments, in approval order, with its approved hours
    that neither its deployment (I-6) nor the purchased hours left cover."""
    plan = budget(view, pool)
    shared = plan.pack_hours  # used only when the deployments share the pack's hours
    purchased = plan.purchased_hours
    for index, scope in enumerate(counted_scopes(view, pool)[: plan.deployments]):
        need = scope.hours
        if index < plan.included:
            covered = min(need, plan.pack_hours if plan.hours_per == PER_DEPLOYMENT else shared)
            shared -= covered
            need -= covered
        top_up = min(need, purchased)
        purchased -= top_up
        yield scope, need - top_up, plan
