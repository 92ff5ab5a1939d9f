"""Billing rules: the draft invoice against overage, additional-cost items, surcharges and T&E."""

from __future__ import annotations

from attrs import frozen

from ...core.context import EPSILON, Audit, ContractView, Pool
from ...core.model import Impact, Level, Record, Violation
from ...core.rule import fails, passes, rule
from .explain import explain_hours
from .ledger import billing, pool_ledger
from .records import Expense, InvoiceLine
from .rules import _delivery, _h, _pool_name, _quarters, _work
from .terms import ADDITIONAL_COST, LIMITED, UNLIMITED, entitlement_terms

OVERAGE_ITEM = "overage_hours"
PER_YEAR = {"year": 1, "half": 2, "month": 12}


# ---- example records (the example contract: Premier, LOB "retail", term 2026, overage USD 240/h per SOW-1)


def _invoice(id: str, item: str, quantity: float, rate: float = 240.0, period: str = "2026-Q1", **extra) -> dict:
    return {"kind": "invoice_line", "id": id, "lob": "retail", "period": period, "item": item, "quantity": quantity,
            "rate": rate, "amount": quantity * rate, "currency": "USD", **extra}


def _expense(id: str, day: str, approved_at: str | None, amount: float = 812.4) -> dict:
    return {"kind": "expense", "id": id, "date": day, "lob": "retail", "amount": amount, "currency": "USD",
            "approved_at": approved_at}


# Premier 113 h/quarter (Section 1): 100 + 20 = 120 h in 2026-Q1, 7 h overage due; w2 crosses the cap.
_Q1_120 = (_work("w1", "2026-01-05", 100), _work("w2", "2026-02-05", 20))
_ON_SITE = "on_site_operations_monitoring"


@frozen
class PeriodOverage:
    """Overage due and billed for one pool and period (a contract quarter, or a year when
    the draft invoice bills that year as a whole)."""

    pool: Pool
    label: str
    due: float
    billed: float
    crossing: Record | None
    lines: tuple[InvoiceLine, ...]


def _overage_lines(view: ContractView) -> dict[tuple[str, str, int], list[InvoiceLine]]:
    """Overage invoice lines by (pool id, period kind, period index)."""
    out: dict[tuple[str, str, int], list[InvoiceLine]] = {}
    for line in billing(view).invoice_lines:
        if line.item != OVERAGE_ITEM:
            continue
        pool = view.by_lob.get(line.lob)
        kind, index = view.calendar.parse_label(line.period)
        if kind != "quarter":  # a year, half or month line is compared per contract year
            kind, index = "year", index // PER_YEAR[kind]
        out.setdefault((pool.id, kind, index), []).append(line)
    return out


def overage_periods(view: ContractView) -> list[PeriodOverage]:
    """Billable overage per contract year = max(sum_q max(0, h_q - quarterly cap), total - annual cap)
    (Section 1), laid out per quarter so each can be matched with the draft invoice: the part the
    annual cap adds goes to the quarter in which the annual cap was crossed. Cached per audit."""
    ledger = billing(view)
    cached = ledger.cache.get("overage_periods")
    if cached is not None:
        return cached
    lines = _overage_lines(view)
    out = []
    for pool in view.pools.values():
        hours = pool_ledger(pool)
        years = {q // 4 for q in hours.quarters} | set(hours.years) | {
            i if kind == "year" else i // 4 for (pid, kind, i) in lines if pid == pool.id
        }
        for year in sorted(years):
            quarters = range(4 * year, 4 * year + 4)
            due = {q: hours.quarters[q].over if q in hours.quarters else 0.0 for q in quarters}
            crossing = {q: hours.quarters[q].crossing if q in hours.quarters else None for q in quarters}
            annual = hours.years.get(year)
            quarterly_sum = sum(due.values())
            if annual is not None and annual.over - quarterly_sum > EPSILON:
                q = view.calendar.periods(annual.crossing.date).quarter
                due[q] += annual.over - quarterly_sum
                crossing[q] = crossing[q] or annual.crossing
            year_lines = tuple(lines.get((pool.id, "year", year), ()))
            if year_lines:  # billed for the year as a whole: compare the year
                quarter_lines = tuple(l for q in quarters for l in lines.get((pool.id, "quarter", q), ()))
                all_lines = year_lines + quarter_lines
                first = next((crossing[q] for q in quarters if crossing[q] is not None), None)
                out.append(
                    PeriodOverage(pool, view.calendar.label("year", year), sum(due.values()),
                                  sum(l.quantity for l in all_lines), first, all_lines)
                )
                continue
            for q in quarters:
                q_lines = tuple(lines.get((pool.id, "quarter", q), ()))
                if due[q] > EPSILON or q_lines:
                    out.append(
                        PeriodOverage(pool, view.calendar.label("quarter", q), due[q],
                                      sum(l.quantity for l in q_lines), crossing[q], q_lines)
                    )
    ledger.cache["overage_periods"] = out
    return out


def _needs_agreement(view: ContractView) -> bool:
    overage = view.contract.overage
    return entitlement_terms(view.policy).overage.requires_written_rate and (overage is None or not overage.agreed)


@rule(
    "billing.overage_unbilled",
    "Overage hours worked but not (fully) on the draft invoice",
    "Section 1",
    Level.ERROR,
    finish=True,
    explain=explain_hours,
    examples=[
        fails(*_Q1_120, flags=["w2"],
              note="Premier 113 h/quarter (Section 1): 100 + 20 = 120 h in 2026-Q1, 7 h due, none invoiced; w2 crossed"),
        fails(*_Q1_120, _invoice("i1", OVERAGE_ITEM, 6.5), flags=["w2"],
              note="Section 1: 120 - 113 = 7 h due for 2026-Q1, 6.5 h invoiced: 0.5 h unbilled"),
        passes(*_Q1_120, _invoice("i1", OVERAGE_ITEM, 7),
               note="Section 1: 120 - 113 = 7 h due for 2026-Q1, 7 h invoiced at the agreed USD 240/h"),
        passes(*_quarters("w", 120, 113, 113, 113), _invoice("i1", OVERAGE_ITEM, 7),
               note="Section 1: overage = max(sum of quarterly excess 7, annual 459 - 455 = 4) = 7 h, not 7 + 4 = 11"),
        passes(*_quarters("w", 120, 100, 116, 100), _invoice("i1", OVERAGE_ITEM, 10, period="2026"),
               note="Section 1: Q1 120 - 113 = 7 h + Q3 116 - 113 = 3 h = 10 h for contract year 2026, billed on one "
                    "line for the year"),
        passes(*_Q1_120, contract={"overage": None},
               note="No overage rate agreed in writing: billing.overage_without_agreement reports it, not this rule"),
    ],
)
def overage_unbilled(audit: Audit):
    """Per pool and quarter: overage due (see entitlement.*_hours) minus overage_hours invoiced;
    names the work record that crossed the cap. Not raised without a written rate
    (that is billing.overage_without_agreement)."""
    for view in audit.contracts.values():
        if _needs_agreement(view):
            continue
        for p in overage_periods(view):
            if p.due - p.billed > EPSILON:
                yield Violation(
                    record=p.crossing,
                    message=(
                        f"{_pool_name(p.pool)}: {_h(p.due)} overage hours due for {p.label}, "
                        f"{_h(p.billed)} on the draft invoice: {_h(p.due - p.billed)} h unbilled"
                    ),
                    impact=view.money(p.due - p.billed),
                    period=p.label,
                    lob=p.crossing.lob if p.crossing else None,
                    contract=view.id,
                )


@rule(
    "billing.overage_overbilled",
    "More overage hours on the draft invoice than were worked over the caps",
    "Section 1",
    Level.ERROR,
    finish=True,
    explain=explain_hours,
    examples=[
        fails(*_Q1_120, _invoice("i1", OVERAGE_ITEM, 7.5), flags=["i1"],
              note="Section 1: 120 - 113 = 7 h due for 2026-Q1, 7.5 h invoiced: 0.5 h overbilled"),
        passes(*_Q1_120, _invoice("i1", OVERAGE_ITEM, 7),
               note="Section 1: 120 - 113 = 7 h due for 2026-Q1, 7 h invoiced"),
        fails(_work("w1", "2026-04-06", 50), _invoice("i1", OVERAGE_ITEM, 5, period="2026-Q2"), flags=["i1"],
              note="Section 1: 50 h in 2026-Q2 <= 113, nothing due; 5 h invoiced for 2026-Q2 are overbilled"),
        fails(*_Q1_120, _invoice("i1", OVERAGE_ITEM, 7, period="2026-Q2"), flags=["i1"],
              note="7 h due in 2026-Q1 but invoiced for 2026-Q2 (0 h due there): 7 h overbilled in Q2"),
    ],
)
def overage_overbilled(audit: Audit):
    """Per pool and quarter: overage_hours invoiced beyond the overage due; names the invoice line."""
    for view in audit.contracts.values():
        if _needs_agreement(view):
            continue
        for p in overage_periods(view):
            if p.billed - p.due > EPSILON:
                yield Violation(
                    record=p.lines[-1],
                    message=(
                        f"{_pool_name(p.pool)}: {_h(p.billed)} overage hours invoiced for {p.label}, "
                        f"only {_h(p.due)} due: {_h(p.billed - p.due)} h overbilled"
                    ),
                    impact=view.money(p.billed - p.due),
                    period=p.label,
                    contract=view.id,
                )


@rule(
    "billing.overage_without_agreement",
    "Overage without a rate agreed in writing, or billed at another rate",
    "Section 1",
    Level.ERROR,
    finish=True,
    explain=explain_hours,
    examples=[
        fails(*_Q1_120, flags=["w2"], contract={"overage": None},
              note="Section 1 'as mutually agreed by the parties in writing': no overage rate in the contract, "
                   "120 - 113 = 7 h due in 2026-Q1; names w2, which crossed the cap"),
        passes(_work("w1", "2026-01-05", 60), _work("w2", "2026-03-31", 53), contract={"overage": None},
               note="Section 1: 60 + 53 = 113 h = the Premier cap: no overage, so no agreed rate is needed"),
        fails(*_Q1_120, _invoice("i1", OVERAGE_ITEM, 7), flags=["i1"],
              contract={"overage": {"rate": 240.0, "currency": "USD"}},
              note="Section 1: a rate with no agreement reference is not agreed in writing; 7 h billed on i1"),
        fails(*_Q1_120, _invoice("i1", OVERAGE_ITEM, 7, rate=250.0), flags=["i1"],
              note="Section 1: agreed USD 240/h (SOW-1), 7 h billed at USD 250/h: 7 x 10 = USD 70 too much"),
        fails(*_Q1_120, _invoice("i1", OVERAGE_ITEM, 7, currency="EUR"), flags=["i1"],
              note="Section 1: agreed USD 240/h (SOW-1), 7 h billed at EUR 240/h: another currency"),
        passes(*_Q1_120, _invoice("i1", OVERAGE_ITEM, 7),
               note="Section 1: 7 h billed at the agreed USD 240/h (SOW-1)"),
    ],
)
def overage_without_agreement(audit: Audit):
    """Overage may be charged only 'at LivePerson's then-current rate as mutually agreed by the
    parties in writing': overage due or billed with no agreed rate in the contract, or an
    overage line whose rate or currency is not the agreed one."""
    for view in audit.contracts.values():
        overage = view.contract.overage
        if _needs_agreement(view):
            for p in overage_periods(view):
                record = p.lines[0] if p.lines else p.crossing
                hours = max(p.due, p.billed)
                yield Violation(
                    record=record,
                    message=(
                        f"{_pool_name(p.pool)}: {_h(hours)} overage hours in {p.label} but the contract "
                        "records no overage rate agreed in writing (rate, currency, agreement)"
                    ),
                    impact=Impact(hours=hours),
                    period=p.label,
                    contract=view.id,
                )
            continue
        for line in billing(view).invoice_lines:
            if line.item != OVERAGE_ITEM:
                continue
            if abs(line.rate - overage.rate) > EPSILON or line.currency != overage.currency:
                yield Violation(
                    record=line,
                    message=(
                        f"overage billed at {line.currency} {line.rate:,.2f}/h; agreed rate is "
                        f"{overage.currency} {overage.rate:,.2f}/h ({overage.agreement})"
                    ),
                    impact=Impact(hours=line.quantity, amount=line.quantity * (line.rate - overage.rate),
                                  currency=line.currency),
                    period=line.period,
                )


def _billed_refs(view: ContractView) -> dict[str, set[str]]:
    ledger = billing(view)
    cached = ledger.cache.get("refs")
    if cached is None:
        cached = ledger.cache["refs"] = {}
        for line in ledger.invoice_lines:
            if line.ref is not None:
                cached.setdefault(line.ref, set()).add(line.item)
    return cached


def _not_invoiced(audit: Audit, need: str, items: set[str]):
    """(contract, delivery) for each delivery that needs an invoice line of one of *items*
    (ref = the delivery) and has none."""
    for view in audit.contracts.values():
        refs = _billed_refs(view)
        for delivery, needed in billing(view).needs_invoice:
            if needed == need and not refs.get(delivery.id, set()) & items:
                yield view, delivery


@rule(
    "billing.additional_cost_unbilled",
    "An item delivered at additional cost is not on the draft invoice",
    "Table 3",
    Level.ERROR,
    finish=True,
    examples=[
        fails(_delivery("d1", "2026-03-10", _ON_SITE), flags=["d1"],
              note="Table 3: On-Site Operations Monitoring is 'At Additional Costs' for Premier; no line refers to d1"),
        passes(_delivery("d1", "2026-03-10", _ON_SITE), _invoice("i1", "additional_service", 1, rate=3000.0, ref="d1"),
               note="Table 3: Premier on-site visit d1 'At Additional Costs', billed on an additional_service line"),
        passes(_delivery("d1", "2026-03-10", _ON_SITE), _invoice("i1", "deliverable", 1, rate=3000.0, ref="d1"),
               note="Table 3: a deliverable line whose ref is d1 bills it too"),
        passes(_delivery("d1", "2026-03-10", _ON_SITE), contract={"tier": "expert"},
               note="Table 3: 'Semi-Annually' for Expert: included, nothing to bill"),
        fails(_delivery("d1", "2026-03-10", _ON_SITE, international=True),
              _invoice("i1", "surcharge", 1, rate=1500.0, ref="d1"), flags=["d1"],
              note="Table 3: the surcharge line for travel abroad does not bill the Premier visit itself"),
    ],
)
def additional_cost_unbilled(audit: Audit):
    """A delivery of an item the tier gets 'At Additional Costs' (on-site monitoring for
    Foundations, Fundamentals, Premier) needs an additional_service (or deliverable) line
    whose ref is the delivery."""
    for view, delivery in _not_invoiced(audit, ADDITIONAL_COST, {"additional_service", "deliverable"}):
        name = entitlement_terms(view.policy).items[delivery.deliverable].name
        yield Violation(
            record=delivery,
            message=(
                f"{name} delivered on {delivery.date} is at additional cost for the "
                f"{view.by_lob[delivery.lob].tier} package, but no invoice line refers to {delivery.id}"
            ),
            clause=entitlement_terms(view.policy).items[delivery.deliverable].clause,
            contract=view.id,
        )


@rule(
    "billing.surcharge_missing",
    "An international on-site visit without a surcharge line",
    "Table 3",
    Level.ERROR,
    finish=True,
    examples=[
        fails(_delivery("d1", "2026-05-12", _ON_SITE, international=True), flags=["d1"], contract={"tier": "expert"},
              note="Table 3: 'International Travel will incur an additional surcharge'; Expert visit abroad "
                   "(included 'Semi-Annually') with no surcharge line"),
        passes(_delivery("d1", "2026-05-12", _ON_SITE, international=True),
               _invoice("i1", "surcharge", 1, rate=1500.0, period="2026-Q2", ref="d1"), contract={"tier": "expert"},
               note="Table 3: the international visit d1 has a surcharge line whose ref is d1"),
        passes(_delivery("d1", "2026-05-12", _ON_SITE), contract={"tier": "expert"},
               note="Table 3: the surcharge is for international travel only; d1 is domestic"),
        fails(_delivery("d1", "2026-05-12", _ON_SITE, international=True),
              _invoice("i1", "additional_service", 1, rate=3000.0, period="2026-Q2", ref="d1"), flags=["d1"],
              note="Table 3: Premier visit abroad: the additional_service line bills the visit, not the surcharge"),
    ],
)
def surcharge_missing(audit: Audit):
    """'International Travel will incur an additional surcharge': an international delivery of
    an item with that note needs a surcharge line whose ref is the delivery."""
    for view, delivery in _not_invoiced(audit, "surcharge", {"surcharge"}):
        yield Violation(
            record=delivery,
            message=f"international on-site visit {delivery.id} on {delivery.date} has no surcharge invoice line",
            clause=entitlement_terms(view.policy).items[delivery.deliverable].clause,
            contract=view.id,
        )


@rule(
    "billing.included_item_billed",
    "The draft invoice bills a deliverable the package includes",
    "Tables 2-5",
    Level.ERROR,
    finish=True,
    examples=[
        fails(*(_delivery(f"d{i}", f"2026-01-0{i}", "customer_account_plan") for i in (1, 2, 3)),
              _invoice("i1", "deliverable", 1, rate=500.0, ref="d2"), flags=["i1"],
              note="Table 2: Customer Account Plan 'Twice Monthly' for Premier: d2 is the 2nd in 2026-01, "
                   "included; billing it is a finding"),
        passes(*(_delivery(f"d{i}", f"2026-01-0{i}", "customer_account_plan") for i in (1, 2, 3)),
               _invoice("i1", "deliverable", 1, rate=500.0, ref="d3"),
               note="Table 2: 'Twice Monthly': d3 is the 3rd in 2026-01, beyond the frequency, so it may be billed"),
        fails(_delivery("d1", "2026-01-05", "general_account_consulting"),
              _invoice("i1", "additional_service", 2, rate=100.0, ref="d1"), flags=["i1"],
              note="Table 2: General Account Consulting is 'Included' for every tier"),
        passes(_delivery("d1", "2026-03-10", _ON_SITE), _invoice("i1", "additional_service", 1, rate=3000.0, ref="d1"),
               note="Table 3: On-Site Operations Monitoring is 'At Additional Costs' for Premier: billing it is right"),
    ],
)
def included_item_billed(audit: Audit):
    """A deliverable or additional_service line whose ref is a delivery included in the tier
    (within its frequency; a delivery beyond the frequency may be billed)."""
    for view in audit.contracts.values():
        ledger = billing(view)
        for line in ledger.invoice_lines:
            if line.item not in ("deliverable", "additional_service") or line.ref is None:
                continue
            status = ledger.delivery_status.get(line.ref)
            if status in (LIMITED, UNLIMITED) and line.ref not in ledger.over_frequency:
                yield Violation(
                    record=line,
                    message=f"invoice line bills delivery {line.ref}, which the package includes",
                    impact=Impact(amount=line.amount, currency=line.currency),
                    period=line.period,
                )


@rule(
    "billing.expense_unapproved",
    "Travel & expense without the customer's advance approval",
    "Section 1",
    Level.ERROR,
    kinds=("expense",),
    examples=[
        fails(_expense("e1", "2026-03-02", None), flags=["e1"],
              note="Section 1: T&E is 'subject to the customer's advance approval'; e1 has none"),
        passes(_expense("e1", "2026-03-02", "2026-02-20T10:00:00-05:00"),
               note="Section 1: approved 2026-02-20, before the expense on 2026-03-02"),
        passes(_expense("e1", "2026-03-02", "2026-03-03T04:59:59Z"),
               note="Approved 2026-03-02 23:59:59 in New York (UTC-5): the local date is the expense date"),
        fails(_expense("e1", "2026-03-02", "2026-03-03T05:00:00Z"), flags=["e1"],
              note="Approved 2026-03-03 00:00 in New York (UTC-5): the day after the expense, not in advance"),
    ],
)
def expense_unapproved(record: Expense, view: ContractView, pool: Pool | None, audit: Audit):
    """T&E 'subject to the customer's advance approval': approved_at missing, or its local date
    (contract time zone) after the expense date."""
    if not entitlement_terms(view.policy).expenses.requires_advance_approval:
        return None
    if record.approved_at is None:
        why = "has no customer approval"
    else:
        approved = view.local_date(record.approved_at)
        if approved <= record.date:
            return None
        why = f"was approved on {approved}, after it was incurred on {record.date}"
    return (
        Violation(
            record=record,
            message=f"expense {record.id} ({record.currency} {record.amount:,.2f}) {why}",
            impact=Impact(amount=record.amount, currency=record.currency),
        ),
    )


RULES = (
    overage_unbilled,
    overage_overbilled,
    overage_without_agreement,
    additional_cost_unbilled,
    included_item_billed,
    expense_unapproved,
    surcharge_missing,
)


REF_ITEMS = {"expense": "expense", "additional_service": "delivery", "deliverable": "delivery", "surcharge": "delivery"}


def unknown_refs(view: ContractView):
    """Invoice lines whose ref names no delivery or expense of the contract (input.unknown_reference)."""
    ledger = billing(view)
    for line in ledger.invoice_lines:
        wanted = REF_ITEMS.get(line.item)
        if wanted is None:
            continue
        if line.ref is None:
            yield Violation(record=line, message=f"a {line.item} line needs a ref to the {wanted} it bills")
            continue
        known = ledger.expense_ids if wanted == "expense" else ledger.delivery_status
        if line.ref not in known:
            yield Violation(record=line, message=f"ref {line.ref!r} names no {wanted} of contract {view.id}")
