"""The expansion domain's running state: the use of each expansion scope of a contract.

Records arrive in file order, so work may name a scope that comes later: that work waits
in the scope's ``early`` list until the scope arrives (or the audit ends). Rules and
``cso-policy entitlements`` only read what is kept in ``view.state["expansion"]``.
"""

from __future__ import annotations

from collections.abc import Iterator

from attrs import define, field

from ...core.context import ContractView, Pool, Tally
from ...core.model import Violation
from ..entitlement.records import Work
from ..entitlement.terms import EXPANSION_SERVICE
from .records import ExpansionScope
from .terms import MODULE, expansion_terms


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
    """The contract's expansion ledger (made on first use)."""
    found = view.state.get(MODULE)
    if found is None:
        found = view.state[MODULE] = ExpansionLedger()
    return found


def observe_scope(scope: ExpansionScope, view: ContractView, pool: Pool | None) -> None:
    use = usage(view).use(scope.id)
    use.scope = scope
    use.tally = Tally(scope.hours)
    for work in use.early:  # replayed in stream order, so the crossing record is the same
        _enter(use, work, view, view.pool_for(work))


def observe_work(work: Work, view: ContractView, pool: Pool | None) -> None:
    """Work on an expansion scope (``expansion`` set) counts against that scope's hours."""
    if work.expansion is None:
        return
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


def check_work(record: Work, view: ContractView) -> tuple[str, str] | None:
    """Work on service 'expansion' names its scope, and work naming a scope is on that service."""
    if record.service == EXPANSION_SERVICE and record.expansion is None:
        return "$.expansion", "work on service 'expansion' needs the id of the expansion scope it uses"
    if record.service != EXPANSION_SERVICE and record.expansion is not None:
        return "$.service", f"work on expansion scope {record.expansion!r} has service 'expansion', got {record.service!r}"
    return None


def check_scope(record: ExpansionScope, view: ContractView) -> tuple[str, str] | None:
    """A scope's use is one Section 9 names."""
    terms = expansion_terms(view.policy)
    if terms is not None and record.use not in terms.uses.allowed and record.use not in terms.uses.disallowed:
        known = sorted(terms.uses.allowed) + sorted(terms.uses.disallowed)
        return "$.use", f"expected one of {', '.join(known)}, got {record.use!r}"
    return None  # a scope id read twice is an input.conflicting_record before it gets here


def pending_work(view: ContractView) -> Iterator[tuple[ExpansionScope, Work]]:
    """Work that came before its scope record, once the scope is known."""
    for use in usage(view).uses.values():
        if use.scope is not None:
            for work in use.early:
                yield use.scope, work


def reference_problems(view: ContractView) -> Iterator[Violation]:
    """input.unknown_reference: work naming no scope of the contract, or a scope of another package."""
    led = view.state.get(MODULE)
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
