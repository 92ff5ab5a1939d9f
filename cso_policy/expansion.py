"""Expansion packs (Section 9, Table 9): the policy module, what each package is entitled
to, and the running use of each expansion scope.

The ledger calls :func:`observe_scope` and :func:`observe_work`; rules and
``cso-policy entitlements`` only read what they keep in ``view.state["expansion"]``.
Records arrive in file order, so work may name a scope that comes later: that
work waits in the scope's ``early`` list until the scope arrives (or the audit ends).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Literal

from attrs import define, field, frozen

from .context import ContractView, Pool, Tally
from .convert import StructureError, structure
from .errors import ConfigError
from .model import ExpansionPurchase, ExpansionScope, PackKind, Record, Violation, Work
from .policy import EXPANSION_SERVICE, Policy

STATE = "expansion"
PER_DEPLOYMENT = "deployment"
PER_PACK = "pack"


# ------------------------------------------------------------ policy module


@frozen(kw_only=True)
class PackTerms:
    hours: float


@frozen(kw_only=True)
class TierPacks:
    deployments: int
    pack: PackKind | None = None


@frozen(kw_only=True)
class Uses:
    allowed: dict[str, str]
    disallowed: dict[str, str]


@frozen(kw_only=True)
class ExpansionTerms:
    clause: str
    table: str
    hours_per: Literal["deployment", "pack"]
    inside_section_1_hours: bool
    carry_forward: bool
    purchase_only_at_renewal: bool
    packs: dict[PackKind, PackTerms]
    tiers: dict[str, TierPacks]
    uses: Uses

    def tier(self, tier: str) -> TierPacks | None:
        """The tier's included packs, or None when it has none (Table 9: '–')."""
        packs = self.tiers.get(tier)
        return packs if packs is not None and packs.deployments > 0 and packs.pack is not None else None


def expansion_terms(policy: Policy) -> ExpansionTerms | None:
    """The policy's expansion module, structured once; None when the policy has none."""
    return policy.derived(STATE, _load)


def _load(policy: Policy) -> ExpansionTerms | None:
    raw = policy.modules.get(STATE)
    if raw is None:
        return None
    try:
        return structure(raw, ExpansionTerms)
    except StructureError as exc:
        path, msg = exc.problems[0]
        raise ConfigError(f"{policy.path / 'expansion.toml'} {path}: {msg}") from None


def counts_in_section_1(policy: Policy) -> bool:
    terms = expansion_terms(policy)
    return terms is None or terms.inside_section_1_hours


# ------------------------------------------------------------ running use


@define
class ScopeUse:
    """One scope id of a contract: the scope once seen, and the in-term work hours on it."""

    scope: ExpansionScope | None = None
    tally: Tally = field(factory=lambda: Tally(None))
    early: list[Work] = field(factory=list)  # work seen before its scope record


@define
class ExpansionLedger:
    uses: dict[str, ScopeUse] = field(factory=dict)
    strays: list[Work] = field(factory=list)  # work on a scope of another package

    def use(self, scope_id: str) -> ScopeUse:
        found = self.uses.get(scope_id)
        if found is None:
            found = self.uses[scope_id] = ScopeUse()
        return found

    def scopes(self) -> Iterator[ExpansionScope]:
        return (u.scope for u in self.uses.values() if u.scope is not None)


def usage(view: ContractView) -> ExpansionLedger:
    found = view.state.get(STATE)
    if found is None:
        found = view.state[STATE] = ExpansionLedger()
    return found


def observe_scope(scope: ExpansionScope, view: ContractView, pool: Pool | None) -> None:
    use = usage(view).use(scope.id)
    use.scope = scope
    use.tally = Tally(scope.hours)
    for work in use.early:  # replayed in stream order, so the crossing record is the same
        _enter(use, work, view, view.pool_for(work))


def observe_work(work: Work, view: ContractView, pool: Pool | None) -> None:
    use = usage(view).use(work.expansion)
    if use.scope is None:
        use.early.append(work)
    else:
        _enter(use, work, view, pool)


def _enter(use: ScopeUse, work: Work, view: ContractView, pool: Pool | None) -> None:
    if pool is not None and pool.id != use.scope.package:
        usage(view).strays.append(work)
    # Work outside the term is reported as such and used no scope hours.
    if view.calendar.in_term(work.date):
        use.tally.add(work.hours, work)


def record_problem(record: Record, view: ContractView) -> tuple[str, str] | None:
    """Why an expansion-related record cannot be used (an input.invalid_record), or None."""
    if record.kind == "work":
        if record.service == EXPANSION_SERVICE and record.expansion is None:
            return "$.expansion", "work on service 'expansion' needs the id of the expansion scope it uses"
        if record.service != EXPANSION_SERVICE and record.expansion is not None:
            return "$.service", f"work on expansion scope {record.expansion!r} has service 'expansion', got {record.service!r}"
        return None
    terms = expansion_terms(view.policy)
    if terms is not None and record.use not in terms.uses.allowed and record.use not in terms.uses.disallowed:
        known = sorted(terms.uses.allowed) + sorted(terms.uses.disallowed)
        return "$.use", f"expected one of {', '.join(known)}, got {record.use!r}"
    seen = usage(view).uses.get(record.id)
    if seen is not None and seen.scope is not None:
        return "$.id", f"expansion scope {record.id!r} is already defined at {seen.scope.source}"
    return None


# ------------------------------------------------------------ entitlement


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


def pending_work(view: ContractView) -> Iterator[tuple[ExpansionScope, Work]]:
    """Work that came before its scope record, once the scope is known."""
    for use in usage(view).uses.values():
        if use.scope is not None:
            for work in use.early:
                yield use.scope, work


def reference_problems(view: ContractView) -> Iterator[Violation]:
    """input.unknown_reference: work naming no scope of the contract, or a scope of another package."""
    led = view.state.get(STATE)
    if led is None:
        return
    for scope_id, use in led.uses.items():
        if use.scope is None:
            for work in use.early:
                yield Violation(record=work, message=f"expansion {scope_id!r} names no expansion scope of contract {view.id}")
    for work in led.strays:
        scope = led.uses[work.expansion].scope
        yield Violation(
            record=work,
            message=(
                f"expansion scope {scope.id} belongs to package {scope.package}; line of business "
                f"{work.lob} is in package {view.by_lob[work.lob].id}"
            ),
        )


# ------------------------------------------------------------ cso-policy entitlements


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
