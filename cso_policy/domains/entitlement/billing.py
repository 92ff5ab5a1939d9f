"""Billing rules: the draft invoice against overage, additional-cost items, surcharges and T&E."""

from __future__ import annotations

import math

from attrs import frozen

from ...core.context import EPSILON, Audit, ContractView, Pool
from ...core.model import Impact, Level, Overage, Record, Violation
from ...core.rule import fails, passes, rule
from .explain import explain_amount, explain_currency, explain_duplicate, explain_hours, explain_rate
from .ledger import billing, charges, pool_ledger
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
    "Overage due or billed without a rate agreed in writing",
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
        passes(*_Q1_120, _invoice("i1", OVERAGE_ITEM, 7),
               note="Section 1: 7 h billed at the agreed USD 240/h (SOW-1)"),
        passes(*_Q1_120, _invoice("i1", OVERAGE_ITEM, 7, rate=250.0),
               note="agreed USD 240/h in SOW-1, 7 h billed at USD 250/h: there is a written agreement; "
                    "the other rate is billing.rate_mismatch, not this rule"),
        passes(*_Q1_120, _invoice("i1", OVERAGE_ITEM, 7, currency="EUR"),
               note="agreed USD 240/h in SOW-1, 7 h billed in EUR: billing.currency_mismatch, not this rule"),
    ],
)
def overage_without_agreement(audit: Audit):
    """Overage may be charged only 'at LivePerson's then-current rate as mutually agreed by the
    parties in writing': overage due or billed while the contract records no overage rate agreed
    in writing (rate, currency and agreement). Names the first overage line of the period, or the
    work record that crossed the cap; impact in hours (there is no rate to price them). A line at
    another rate or currency than the agreed one is billing.rate_mismatch or
    billing.currency_mismatch."""
    for view in audit.contracts.values():
        if not _needs_agreement(view):
            continue
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


# ---- invoice lines checked as invoices: arithmetic, currency, rate, one line per charge

CENT_DUST = 1e-6  # in cents: float dust of quantity x rate (3 x 0.35 = 1.0499999999999998), far below a cent


def _cents(value: float) -> float:
    """*value* in whole cents, half a cent rounded away from zero (5.505 -> 551, also when the float is 5.50499...)."""
    return math.copysign(math.floor(abs(value) * 100 + 0.5 + CENT_DUST), value)


def amount_differs(amount: float, quantity: float, rate: float) -> bool:
    """The amount, rounded to the cent, is not quantity x rate rounded to the cent. A product of exactly
    half a cent may be rounded either way (half up or half to even): 0.5 x 1.25 = 0.625 is 0.62 or 0.63."""
    return abs(_cents(amount) - quantity * rate * 100) > 0.5 + CENT_DUST


def _same_currency(a: str, b: str) -> bool:
    return a.strip().upper() == b.strip().upper()


def _money(currency: str, amount: float) -> str:
    return f"{currency} {amount:,.2f}"


def agreed_rate(view: ContractView) -> Overage | None:
    """The overage rate agreed in writing, or None: none recorded, or (when the policy requires a
    written rate) one without an agreement reference, which billing.overage_without_agreement reports."""
    overage = view.contract.overage
    if overage is None or overage.rate is None or not overage.currency or _needs_agreement(view):
        return None
    return overage


def _line(id: str, item: str, quantity: float, rate: float, amount: float, period: str = "2026-Q1", **extra) -> dict:
    return {**_invoice(id, item, quantity, rate, period, **extra), "amount": amount}


@rule(
    "billing.amount_mismatch",
    "An invoice line whose amount is not quantity x rate, to the cent",
    "invoice format",
    Level.ERROR,
    kinds=("invoice_line",),
    explain=explain_amount,
    examples=[
        fails(_line("i1", OVERAGE_ITEM, 5.5, 240.0, 1320.01), flags=["i1"],
              note="5.5 h x USD 240.00 = USD 1,320.00; the line says USD 1,320.01: USD 0.01 more"),
        passes(_line("i1", OVERAGE_ITEM, 5.5, 240.0, 1320.0), note="5.5 x USD 240.00 = USD 1,320.00, as on the line"),
        passes(_line("i1", OVERAGE_ITEM, 5.5, 240.0, 1320.004),
               note="USD 1,320.004 is USD 1,320.00 to the cent = 5.5 x 240"),
        passes(_line("i1", OVERAGE_ITEM, 1.5, 240.33, 360.5),
               note="1.5 x USD 240.33 = USD 360.495: half a cent, rounded up to USD 360.50 (360.49 would pass too)"),
        fails(_expense("e1", "2026-03-02", "2026-02-20T10:00:00-05:00"),
              _line("i1", "expense", 1, 812.4, 821.4, ref="e1"), flags=["i1"],
              note="1 x USD 812.40 = USD 812.40; the line says USD 821.40 (digits swapped): USD 9.00 more"),
        fails(_line("i1", OVERAGE_ITEM, 7, 240.0, 1600.0), flags=["i1"],
              note="7 h x USD 240.00 = USD 1,680.00; the line says USD 1,600.00: USD 80.00 less"),
    ],
)
def amount_mismatch(record: InvoiceLine, view: ContractView, pool: Pool | None, audit: Audit):
    """Any invoice line whose amount, rounded to the cent, is not quantity x rate rounded to the
    cent (a product of exactly half a cent may be rounded either way). Impact: amount - quantity x
    rate, in the line's currency."""
    expected = record.quantity * record.rate
    if not amount_differs(record.amount, record.quantity, record.rate):
        return None
    diff = record.amount - expected
    return (
        Violation(
            record=record,
            message=(
                f"amount {_money(record.currency, record.amount)} is not {record.quantity:g} x "
                f"{_money(record.currency, record.rate)} = {_money(record.currency, expected)}: "
                f"{_money(record.currency, abs(diff))} {'more' if diff > 0 else 'less'}"
            ),
            impact=Impact(amount=diff, currency=record.currency),
            period=record.period,
        ),
    )


@rule(
    "billing.currency_mismatch",
    "An expense or overage line in another currency than the expense or the agreed overage rate",
    "Section 1",
    Level.ERROR,
    finish=True,
    explain=explain_currency,
    examples=[
        fails(_expense("e1", "2026-03-02", "2026-02-20T10:00:00-05:00"),
              _invoice("i1", "expense", 1, 812.4, ref="e1", currency="EUR"), flags=["i1"],
              note="expense e1 was incurred in USD (812.40); line i1 bills it as EUR 812.40"),
        passes(_expense("e1", "2026-03-02", "2026-02-20T10:00:00-05:00"),
               _invoice("i1", "expense", 1, 812.4, ref="e1"),
               note="expense e1 USD 812.40 billed as 1 x USD 812.40"),
        fails(_invoice("i1", OVERAGE_ITEM, 7, currency="EUR"), flags=["i1"],
              note="Section 1: overage agreed at USD 240/h (SOW-1); 7 h billed as EUR 1,680.00"),
        passes(_invoice("i1", OVERAGE_ITEM, 7),
               note="Section 1: 7 h x USD 240 = USD 1,680.00, the agreed currency"),
        passes(_invoice("i1", OVERAGE_ITEM, 7, currency="EUR"), contract={"overage": None},
               note="no overage rate agreed in writing, so no agreed currency: billing.overage_without_agreement's"),
    ],
)
def currency_mismatch(audit: Audit):
    """An expense line (ref = an expense) in another currency than that expense, or an
    overage_hours line in another currency than the overage rate agreed in writing. Impact: the
    line's amount, in its currency (nothing is converted). A ref that names no expense is
    input.unknown_reference; without an agreed rate, billing.overage_without_agreement."""
    for view in audit.contracts.values():
        ledger = billing(view)
        agreed = agreed_rate(view)
        for line in ledger.invoice_lines:
            if line.item == "expense" and line.ref is not None:
                expected = ledger.expense_currency.get(line.ref)
                if expected is None or _same_currency(line.currency, expected):
                    continue
                why = f"expense {line.ref} was incurred in {expected}"
            elif line.item == OVERAGE_ITEM and agreed is not None:
                if _same_currency(line.currency, agreed.currency):
                    continue
                expected = agreed.currency
                why = f"the overage rate agreed in {agreed.agreement} is {_money(agreed.currency, agreed.rate)}/h"
            else:
                continue
            yield Violation(
                record=line,
                message=f"{line.item} line billed in {line.currency} ({_money(line.currency, line.amount)}), but {why}",
                impact=Impact(amount=line.amount, currency=line.currency),
                period=line.period,
            )


_VISIT = _delivery("d1", "2026-03-10", _ON_SITE, international=True)
_APPROVED = "2026-02-20T10:00:00-05:00"


@rule(
    "billing.duplicate_charge",
    "One expense, delivery or surcharge billed by more than one invoice line",
    "invoice format",
    Level.ERROR,
    finish=True,
    explain=explain_duplicate,
    examples=[
        fails(_expense("e1", "2026-03-02", _APPROVED), _invoice("i1", "expense", 1, 812.4, ref="e1"),
              _invoice("i2", "expense", 1, 812.4, ref="e1"), flags=["i2"],
              note="expense e1 USD 812.40 on i1 and again on i2 (both 2026-Q1; i1 first by id): USD 812.40 twice"),
        fails(_expense("e1", "2026-03-02", _APPROVED), _invoice("i1", "expense", 1, 812.4, ref="e1", period="2026-Q2"),
              _invoice("i2", "expense", 1, 812.4, ref="e1"), flags=["i1"],
              note="ordered by period, then id: i2 (2026-Q1) bills e1 first, i1 (2026-Q2) again"),
        passes(_VISIT, _invoice("i1", "additional_service", 1, 3000.0, ref="d1"),
               _invoice("i2", "surcharge", 1, 1500.0, ref="d1"),
               note="Table 3: Premier visit abroad: one line bills the visit (USD 3,000), one the surcharge (USD 1,500)"),
        fails(_VISIT, _invoice("i1", "additional_service", 1, 3000.0, ref="d1"),
              _invoice("i2", "deliverable", 1, 3000.0, ref="d1"), flags=["i2"],
              note="an additional_service and a deliverable line both bill delivery d1 itself: USD 3,000 twice"),
        fails(_VISIT, _invoice("i1", "additional_service", 1, 3000.0, ref="d1"),
              _invoice("i2", "surcharge", 1, 1500.0, ref="d1"), _invoice("i3", "surcharge", 1, 1500.0, ref="d1"),
              flags=["i3"], note="Table 3: one surcharge per visit abroad; i3 is a second one (USD 1,500)"),
        fails(_expense("e1", "2026-03-02", _APPROVED), *(_invoice(f"i{n}", "expense", 1, 812.4, ref="e1")
                                                         for n in (1, 2, 3)), flags=["i2", "i3"],
              note="e1 on three lines: i2 and i3 after the first, USD 812.40 each"),
        passes(_invoice("i1", OVERAGE_ITEM, 4), _invoice("i2", OVERAGE_ITEM, 3),
               note="two overage_hours lines for 2026-Q1 (4 h + 3 h): the overage rules compare their sum, 7 h, "
                    "with the hours due; not a duplicate"),
        passes(_expense("e1", "2026-03-02", _APPROVED), _expense("e2", "2026-03-03", _APPROVED),
               _invoice("i1", "expense", 1, 812.4, ref="e1"), _invoice("i2", "expense", 1, 812.4, ref="e2"),
               note="two expenses of USD 812.40, one line each"),
    ],
)
def duplicate_charge(audit: Audit):
    """Lines that bill the same thing: the same ref and the same charge (an expense line; a
    deliverable or additional_service line, which both bill the delivery itself; a surcharge
    line, one of which a delivery may have besides the line billing the visit). Ordered by
    period, then id, each line after the first is a finding; impact its amount. overage_hours
    lines are not compared here: billing.overage_overbilled compares their sum per pool and
    period with the hours due. A ref that names nothing is input.unknown_reference."""
    for view in audit.contracts.values():
        for (ref, charge), lines in charges(view).items():
            first = lines[0]
            what = {"expense": f"expense {ref}", "delivery": f"delivery {ref}",
                    "surcharge": f"the surcharge of delivery {ref}"}[charge]
            for line in lines[1:]:
                yield Violation(
                    record=line,
                    message=(
                        f"{what} is already billed on {first.id} ({first.period}, {_money(first.currency, first.amount)}); "
                        f"{line.id} ({line.item}) bills it again"
                    ),
                    impact=Impact(amount=line.amount, currency=line.currency),
                    period=line.period,
                )


@rule(
    "billing.rate_mismatch",
    "Overage hours billed at another rate than the one agreed in writing",
    "Section 1",
    Level.ERROR,
    kinds=("invoice_line",),
    explain=explain_rate,
    examples=[
        fails(_invoice("i1", OVERAGE_ITEM, 7, rate=250.0), flags=["i1"],
              note="Section 1: agreed USD 240/h (SOW-1), 7 h billed at USD 250/h: 7 x (250 - 240) = USD 70.00 too much"),
        fails(_invoice("i1", OVERAGE_ITEM, 7, rate=230.0), flags=["i1"],
              note="Section 1: agreed USD 240/h, 7 h billed at USD 230/h: 7 x (230 - 240) = USD -70.00"),
        passes(_invoice("i1", OVERAGE_ITEM, 7), note="Section 1: 7 h at the agreed USD 240/h (SOW-1)"),
        passes(_invoice("i1", OVERAGE_ITEM, 7, rate=240.001),
               note="USD 240.001/h is USD 240.00 to the cent, the agreed rate"),
        passes(_invoice("i1", OVERAGE_ITEM, 7, rate=250.0, currency="EUR"),
               note="EUR 250/h is not comparable with USD 240/h: billing.currency_mismatch's"),
        passes(_invoice("i1", OVERAGE_ITEM, 7, rate=250.0), contract={"overage": None},
               note="no overage rate agreed in writing: billing.overage_without_agreement's"),
        passes(_invoice("i1", "additional_service", 1, rate=3000.0, ref="d1"),
               _delivery("d1", "2026-03-10", _ON_SITE),
               note="only overage_hours lines have an agreed rate (Section 1); USD 3,000 for d1 is not compared"),
    ],
)
def rate_mismatch(record: InvoiceLine, view: ContractView, pool: Pool | None, audit: Audit):
    """An overage_hours line in the agreed currency whose rate, to the cent, is not the rate agreed
    in writing (Section 1). Impact: quantity x (rate - agreed rate), in the agreed currency
    (negative when billed below it). Another currency is billing.currency_mismatch; no agreed rate,
    billing.overage_without_agreement."""
    if record.item != OVERAGE_ITEM:
        return None
    agreed = agreed_rate(view)
    if agreed is None or not _same_currency(record.currency, agreed.currency):
        return None
    if _cents(record.rate) == _cents(agreed.rate):
        return None
    diff = record.quantity * (record.rate - agreed.rate)
    return (
        Violation(
            record=record,
            message=(
                f"{record.quantity:g} overage hours billed at {_money(record.currency, record.rate)}/h; the rate "
                f"agreed in {agreed.agreement} is {_money(agreed.currency, agreed.rate)}/h: "
                f"{record.quantity:g} x ({record.rate:,.2f} - {agreed.rate:,.2f}) = {_money(agreed.currency, diff)}"
            ),
            impact=Impact(amount=diff, currency=agreed.currency),
            period=record.period,
        ),
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
    amount_mismatch,
    currency_mismatch,
    duplicate_charge,
    rate_mismatch,
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
            article = "an" if line.item[:1] in "aeiou" else "a"
            yield Violation(record=line, message=f"{article} {line.item} line needs a ref to the {wanted} it bills")
            continue
        known = ledger.expense_currency if wanted == "expense" else ledger.delivery_status
        if line.ref not in known:
            yield Violation(record=line, message=f"ref {line.ref!r} names no {wanted} of contract {view.id}")
