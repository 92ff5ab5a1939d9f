"""The entitlement domain's running state: hours per contract quarter and year, allowance
hours and deliveries per period for each pool (:class:`PoolLedger`), and what billing needs
to match invoice lines for each contract (:class:`BillingLedger`).

The evaluator calls the ``observe_*`` functions once per record, before any rule sees it;
rules only read. Memory grows with contracts x periods (plus the ids of the deliveries and
expenses that invoice lines may refer to, each expense's currency, and the invoice lines
themselves), not with work records.
"""

from __future__ import annotations

from collections import defaultdict

from attrs import define, field

from ...core.context import ContractView, Pool, Tally
from .records import Delivery, Expense, InvoiceLine, Work
from .terms import ADDITIONAL_COST, LIMITED, MODULE, Cell, EntitlementTerms, entitlement_terms

EXPANSION_MODULE = "expansion"


@define
class PoolLedger:
    """One pool's running totals against its tier's caps (and, for the hot path, the terms they
    are read from, and the allowance each service's hours go to)."""

    quarterly_cap: float
    annual_cap: float
    terms: EntitlementTerms = field(default=None, repr=False)
    expansion_counts: bool = True  # expansion hours count toward the Section 1 caps
    allowance_of: dict[str, tuple[str, float] | None] = field(factory=dict, repr=False)  # service -> (key, cap)
    quarters: dict[int, Tally] = field(factory=dict)
    years: dict[int, Tally] = field(factory=dict)
    allowances: dict[tuple[str, int], Tally] = field(factory=dict)  # (allowance key, year)
    deliveries: dict[tuple[str, str, int], int] = field(factory=lambda: defaultdict(int))  # (item, period kind, index)


@define
class BillingLedger:
    """One contract's invoice lines and what they may refer to."""

    invoice_lines: list[InvoiceLine] = field(factory=list)
    delivery_status: dict[str, str] = field(factory=dict)  # delivery id -> its cell's status
    expense_currency: dict[str, str] = field(factory=dict)  # expense id -> its currency (invoice lines' refs)
    needs_invoice: list[tuple[Delivery, str]] = field(factory=list)  # (delivery, "additional_cost" | "surcharge")
    over_frequency: set[str] = field(factory=set)  # deliveries beyond their frequency
    cache: dict = field(factory=dict)  # what billing rules derive once per audit


def pool_ledger(pool: Pool) -> PoolLedger:
    """The pool's ledger (made on first use, with the tier's Section 1 caps)."""
    found = pool.state.get(MODULE)
    if found is None:
        policy = pool.contract.policy
        terms = entitlement_terms(policy)
        expansion = policy.terms(EXPANSION_MODULE)
        found = pool.state[MODULE] = PoolLedger(
            terms.hours.per_quarter[pool.tier], terms.hours.per_year[pool.tier], terms=terms,
            expansion_counts=expansion is None or expansion.inside_section_1_hours)
    return found


def billing(view: ContractView) -> BillingLedger:
    """The contract's billing ledger (made on first use)."""
    found = view.state.get(MODULE)
    if found is None:
        found = view.state[MODULE] = BillingLedger()
    return found


# What an invoice line with a ref bills: lines of the same charge for the same ref bill one thing.
# A deliverable and an additional_service line both bill the delivery itself; a surcharge line bills
# the delivery's (international travel) surcharge, which a delivery may carry once besides the visit.
CHARGE = {"expense": "expense", "deliverable": "delivery", "additional_service": "delivery", "surcharge": "surcharge"}


def charges(view: ContractView) -> dict[tuple[str, str], list[InvoiceLine]]:
    """(ref, charge) -> the invoice lines billing it, ordered by period (its first day, then its
    last) and then id. Only refs that name an expense or delivery of the contract: a ref that
    names nothing is input.unknown_reference. overage_hours lines have no ref and are compared
    per pool and period by the overage rules instead. Derived once per audit from the ledger."""
    ledger = billing(view)
    found = ledger.cache.get("charges")
    if found is None:
        found = ledger.cache["charges"] = {}
        for line in ledger.invoice_lines:
            charge = CHARGE.get(line.item)
            if charge is None or line.ref is None:
                continue
            known = ledger.expense_currency if charge == "expense" else ledger.delivery_status
            if line.ref in known:
                found.setdefault((line.ref, charge), []).append(line)
        for lines in found.values():
            if len(lines) > 1:  # most refs are billed once: no period to work out
                lines.sort(key=lambda line: (view.calendar.bounds(*view.calendar.parse_label(line.period)), line.id))
    return found


def cell(pool: Pool, item: str) -> Cell | None:
    """What the pool's tier gets of *item* (None: an unknown item)."""
    return entitlement_terms(pool.contract.policy).cell(pool.tier, item)


def _tally(table: dict, key, cap: float | None) -> Tally:
    tally = table.get(key)
    if tally is None:
        tally = table[key] = Tally(cap)
    return tally


def counts_toward_caps(pool: Pool, work: Work) -> bool:
    """All work counts, except work on an item the tier gets only at additional cost, and
    expansion work when the expansion module keeps it out of the Section 1 hours."""
    policy = pool.contract.policy
    if work.expansion is not None:
        expansion = policy.terms(EXPANSION_MODULE)
        return expansion is None or expansion.inside_section_1_hours
    found = cell(pool, work.service)
    if found is not None and found.status == ADDITIONAL_COST:
        return entitlement_terms(policy).hours.count_additional_cost
    return True


def allowance_key(pool: Pool, service: str) -> str | None:
    """The allowance tally a service's hours go to (I-2: shared or per service)."""
    terms = entitlement_terms(pool.contract.policy)
    item = terms.items.get(service)
    if item is None or item.allowance is None:
        return None
    allowance = terms.allowances[item.allowance]
    if pool.tier not in allowance.hours:
        return None
    return item.allowance if allowance.scope == "shared" else f"{item.allowance}:{service}"


def allowance_cap(pool: Pool, key: str) -> float:
    return entitlement_terms(pool.contract.policy).allowances[key.partition(":")[0]].hours[pool.tier]


def observe_work(work: Work, view: ContractView, pool: Pool) -> None:
    """Hours in the term count toward the pool's quarter, year and allowance (what
    counts_toward_caps says, read from the ledger's copy of the terms: every work record passes here)."""
    if not view.calendar.in_term(work.date):
        return
    ledger = pool_ledger(pool)
    service = work.service
    if work.expansion is not None:
        if not ledger.expansion_counts:
            return
    else:
        found = ledger.terms.cell(pool.tier, service)
        if found is not None and found.status == ADDITIONAL_COST and not ledger.terms.hours.count_additional_cost:
            return
    periods = view.calendar.periods(work.date)
    _tally(ledger.quarters, periods.quarter, ledger.quarterly_cap).add(work.hours, work)
    _tally(ledger.years, periods.year, ledger.annual_cap).add(work.hours, work)
    if service in ledger.allowance_of:
        allowance = ledger.allowance_of[service]
    else:
        key = allowance_key(pool, service)
        allowance = ledger.allowance_of[service] = (key, allowance_cap(pool, key)) if key is not None else None
    if allowance is not None:
        _tally(ledger.allowances, (allowance[0], periods.year), allowance[1]).add(work.hours, work)


def observe_delivery(delivery: Delivery, view: ContractView, pool: Pool) -> None:
    found = cell(pool, delivery.deliverable)
    status = found.status if found is not None else "unknown"
    ledger = billing(view)
    if view.calendar.in_term(delivery.date) and found is not None and found.status == LIMITED:
        index = view.calendar.periods(delivery.date).index(found.period)
        key = (delivery.deliverable, found.period, index)
        deliveries = pool_ledger(pool).deliveries
        deliveries[key] += 1
        if deliveries[key] > found.max:
            ledger.over_frequency.add(delivery.id)
    ledger.delivery_status[delivery.id] = status
    item = entitlement_terms(view.policy).items.get(delivery.deliverable)
    if status == ADDITIONAL_COST:
        ledger.needs_invoice.append((delivery, "additional_cost"))
    if delivery.international and item is not None and item.international_surcharge:
        ledger.needs_invoice.append((delivery, "surcharge"))


def observe_expense(expense: Expense, view: ContractView, pool: Pool | None) -> None:
    billing(view).expense_currency[expense.id] = expense.currency


def observe_invoice_line(line: InvoiceLine, view: ContractView, pool: Pool | None) -> None:
    billing(view).invoice_lines.append(line)


# ------------------------------------------------------------ policy checks (input.invalid_record)


def _expected(known, got) -> str:
    return f"expected one of {', '.join(sorted(known))}, got {got!r}"


def check_work(work: Work, view: ContractView) -> tuple[str, str] | None:
    services = entitlement_terms(view.policy).services
    if work.service not in services:
        return "$.service", _expected(services, work.service)
    return None


def check_delivery(delivery: Delivery, view: ContractView) -> tuple[str, str] | None:
    items = entitlement_terms(view.policy).items
    if delivery.deliverable not in items:
        return "$.deliverable", _expected(items, delivery.deliverable)
    return None


def check_invoice_line(line: InvoiceLine, view: ContractView) -> tuple[str, str] | None:
    if view.calendar.parse_label(line.period) is None:
        return "$.period", f"expected a contract period like 2026-Q1 or 2026, got {line.period!r}"
    return None


def hours_burn(views: dict[str, ContractView]) -> list[dict]:
    """Per contract and package: hours per contract quarter against the quarterly cap (the
    report's ``hours`` summary section)."""
    out = []
    for view in sorted(views.values(), key=lambda v: v.id):
        for pool in view.pools.values():
            hours = pool_ledger(pool)
            quarters = [
                {"period": view.calendar.label("quarter", q), "hours": round(t.total, 4), "cap": hours.quarterly_cap}
                for q, t in sorted(hours.quarters.items())
            ]
            out.append({"contract": view.id, "package": pool.id, "tier": pool.tier, "quarters": quarters})
    return out
