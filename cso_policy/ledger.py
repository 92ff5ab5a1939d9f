"""The one place running totals are kept: hours per quarter and year, allowance hours,
deliveries per period, and what billing needs to match invoice lines.

The evaluator calls :func:`observe` once per record, before any rule sees it;
rules only read. Memory grows with contracts x periods (plus the ids of the
deliveries and expenses that invoice lines may refer to), not with work records.
"""

from __future__ import annotations

from . import expansion
from .context import ContractView, Pool, Tally
from .model import Delivery, Expense, InvoiceLine, Record, Work
from .policy import ADDITIONAL_COST, LIMITED


def _tally(table: dict, key, cap: float | None) -> Tally:
    tally = table.get(key)
    if tally is None:
        tally = table[key] = Tally(cap)
    return tally


def counts_toward_caps(pool: Pool, work: Work) -> bool:
    """All work counts, except work on an item the tier gets only at additional cost."""
    if work.expansion is not None:
        return expansion.counts_in_section_1(pool.contract.policy)
    cell = pool.cell(work.service)
    if cell is not None and cell.status == ADDITIONAL_COST:
        return pool.contract.policy.entitlement.hours.count_additional_cost
    return True


def allowance_key(pool: Pool, service: str) -> str | None:
    """The allowance tally a service's hours go to (I-2: shared or per service)."""
    terms = pool.contract.policy.entitlement
    item = terms.items.get(service)
    if item is None or item.allowance is None:
        return None
    allowance = terms.allowances[item.allowance]
    if pool.tier not in allowance.hours:
        return None
    return item.allowance if allowance.scope == "shared" else f"{item.allowance}:{service}"


def allowance_cap(pool: Pool, key: str) -> float:
    return pool.contract.policy.entitlement.allowances[key.partition(":")[0]].hours[pool.tier]


def observe_work(work: Work, view: ContractView, pool: Pool) -> None:
    if work.expansion is not None:
        expansion.observe_work(work, view, pool)
    if not view.calendar.in_term(work.date) or not counts_toward_caps(pool, work):
        return
    periods = view.calendar.periods(work.date)
    _tally(pool.quarters, periods.quarter, pool.quarterly_cap).add(work.hours, work)
    _tally(pool.years, periods.year, pool.annual_cap).add(work.hours, work)
    key = allowance_key(pool, work.service)
    if key is not None:
        _tally(pool.allowances, (key, periods.year), allowance_cap(pool, key)).add(work.hours, work)


def observe_delivery(delivery: Delivery, view: ContractView, pool: Pool) -> None:
    cell = pool.cell(delivery.deliverable)
    status = cell.status if cell is not None else "unknown"
    if view.calendar.in_term(delivery.date) and cell is not None and cell.status == LIMITED:
        index = view.calendar.periods(delivery.date).index(cell.period)
        key = (delivery.deliverable, cell.period, index)
        pool.deliveries[key] += 1
        if pool.deliveries[key] > cell.max:
            view.over_frequency.add(delivery.id)
    view.delivery_status[delivery.id] = status
    item = view.policy.entitlement.items.get(delivery.deliverable)
    if status == ADDITIONAL_COST:
        view.needs_invoice.append((delivery, "additional_cost"))
    if delivery.international and item is not None and item.international_surcharge:
        view.needs_invoice.append((delivery, "surcharge"))


def observe_expense(expense: Expense, view: ContractView, pool: Pool | None) -> None:
    view.expense_ids.add(expense.id)


def observe_invoice_line(line: InvoiceLine, view: ContractView, pool: Pool | None) -> None:
    view.invoice_lines.append(line)


OBSERVERS = {
    "work": observe_work,
    "delivery": observe_delivery,
    "expense": observe_expense,
    "invoice_line": observe_invoice_line,
    "expansion_scope": expansion.observe_scope,
}


def observe(record: Record, view: ContractView, pool: Pool | None) -> None:
    observer = OBSERVERS.get(record.kind)
    if observer is not None:
        observer(record, view, pool)
