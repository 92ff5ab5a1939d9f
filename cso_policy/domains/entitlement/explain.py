"""What ``cso-policy explain`` shows for the entitlement domain: the package's caps and the
overage agreement among the terms that applied, for an hours finding the period's work
records with the running total against the cap, and for an invoice-line finding the line, what
it was compared with and the arithmetic."""

from __future__ import annotations

from collections.abc import Iterator

from ...core.context import ContractView, Pool
from ...core.model import Finding
from .ledger import allowance_cap, allowance_key, billing, charges, counts_toward_caps, pool_ledger
from .records import Delivery, Expense, InvoiceLine, Work
from .terms import entitlement_terms


def terms_lines(view: ContractView, pool: Pool | None) -> list[str]:
    lines = []
    if pool is not None:
        ledger = pool_ledger(pool)
        lines.append(f"package {pool.id}: {pool.tier}, shared by {', '.join(pool.lobs)}; "
                     f"{ledger.quarterly_cap:g} h per contract quarter, {ledger.annual_cap:g} h per contract year (Section 1)")
    overage = view.contract.overage
    if overage is not None and overage.agreed:
        lines.append(f"overage rate {overage.currency} {overage.rate:,.2f}/h agreed in {overage.agreement}")
    else:
        lines.append("no overage rate agreed in writing")
    return lines


def _work_in_period(context, view: ContractView, pool: Pool, period: str | None, service_filter=None) -> Iterator[Work]:
    parsed = view.calendar.parse_label(period) if period else None
    for record in context.records(kind="work", contract=view.id):
        if record.lob not in pool.lobs:
            continue
        if not view.calendar.in_term(record.date) or not counts_toward_caps(pool, record):
            continue
        if service_filter is not None and not service_filter(record):
            continue
        if parsed is not None:
            kind, index = parsed
            if view.calendar.periods(record.date).index(kind) != index:
                continue
        yield record


def explain_hours(f: Finding, context) -> list[str]:
    """The work records of the finding's pool and period, in the order the audit counted them
    (date, then id), with the running total and the record that crossed the cap; then the
    computed excess and its price."""
    view = context.views.get(f.contract) if f.contract else None
    pool = view.by_lob.get(f.lob) if view is not None and f.lob else None
    if pool is None:
        return []
    ledger = pool_ledger(pool)
    period = f.period
    service_filter = None
    cap = None
    if f.rule == "entitlement.allowance_hours":
        # the allowance is the one the crossing record's service counts toward (I-2)
        crossing = next((r for r in context.records(kind="work", contract=view.id) if r.id == f.record), None)
        key = allowance_key(pool, crossing.service) if crossing is not None else None
        if key is not None:
            members = {s for s in entitlement_terms(view.policy).items if allowance_key(pool, s) == key}
            service_filter = lambda r: r.service in members  # noqa: E731
            cap = allowance_cap(pool, key)
    elif period and "Q" in period:
        cap = ledger.quarterly_cap
    else:
        cap = ledger.annual_cap
    lines = [f"  contributing work records ({pool.id}, {period or 'all periods'}), in date order:"]
    total = 0.0
    crossed = False
    for r in _work_in_period(context, view, pool, period, service_filter):
        total += r.hours
        mark = ""
        if cap is not None and not crossed and total - cap > 1e-9:
            crossed, mark = True, f"  <- crossed {cap:g} h"
        lines.append(f"    {r.date}  {r.id:<12} {r.lob:<12} {r.service:<36} {r.hours:>6g} h  running {total:>8g} h{mark}")
    if cap is not None:
        over = max(0.0, total - cap)
        line = f"  computed: {total:g} h - {cap:g} h = {over:g} h over"
        overage = view.contract.overage
        if overage is not None and overage.agreed:
            line += f"; x {overage.currency} {overage.rate:,.2f}/h = {overage.currency} {over * overage.rate:,.2f}"
        lines.append(line)
    return lines


# ---- invoice lines checked as invoices (billing.amount_mismatch, currency_mismatch, duplicate_charge,
# rate_mismatch): the line itself, what it was compared with, and the arithmetic. The lines come from
# the run's billing ledger; only the expense or delivery a line bills is read again, to describe it.


def _money(currency: str, amount: float) -> str:
    return f"{currency} {amount:,.2f}"


def _finding_line(f: Finding, context) -> tuple[ContractView | None, InvoiceLine | None]:
    """The finding's contract and the invoice line it names (same id, and same period when it has one)."""
    view = context.views.get(f.contract) if f.contract else None
    if view is None or f.record is None:
        return view, None
    lines = [line for line in billing(view).invoice_lines if line.id == f.record]
    return view, next((line for line in lines if line.period == f.period), lines[0] if lines else None)


def _line_row(line: InvoiceLine, mark: str = "") -> str:
    ref = f"  ref {line.ref}" if line.ref else ""
    return (f"    {line.period:<8} {line.id:<12} {line.lob:<12} {line.item:<18} {line.quantity:>6g} x "
            f"{_money(line.currency, line.rate):>14}  amount {_money(line.currency, line.amount):>14}{ref}{mark}")


def _line_header(line: InvoiceLine) -> list[str]:
    return ["  the invoice line (period, id, line of business, item, quantity x rate, amount):", _line_row(line)]


def _billed_record(context, view: ContractView, kind: str, id: str) -> str | None:
    """One line on the expense or delivery an invoice line bills, read again from the records."""
    for record in context.records(kind=kind, contract=view.id):
        if record.id != id:
            continue
        if isinstance(record, Expense):
            approved = f", approved {record.approved_at:%Y-%m-%d}" if record.approved_at else ", not approved"
            return f"  the expense it bills: {record.id} on {record.date}, {_money(record.currency, record.amount)}{approved}"
        if isinstance(record, Delivery):
            abroad = " (international)" if record.international else ""
            return f"  the delivery it bills: {record.id} on {record.date}, {record.deliverable}{abroad}, LOB {record.lob}"
    return None


def explain_amount(f: Finding, context) -> list[str]:
    """billing.amount_mismatch: quantity x rate worked out to the cent, against the line's amount."""
    view, line = _finding_line(f, context)
    if line is None:
        return []
    expected = line.quantity * line.rate
    diff = line.amount - expected
    return _line_header(line) + [
        f"  computed: {line.quantity:g} x {_money(line.currency, line.rate)} = {_money(line.currency, expected)}; "
        f"the line says {_money(line.currency, line.amount)}: {_money(line.currency, abs(diff))} "
        f"{'more' if diff > 0 else 'less'} (compared to the cent)",
    ]


def explain_rate(f: Finding, context) -> list[str]:
    """billing.rate_mismatch: the line's rate against the rate agreed in writing, and the difference."""
    view, line = _finding_line(f, context)
    if line is None:
        return []
    overage = view.contract.overage
    out = _line_header(line)
    if overage is None or overage.rate is None:
        return out
    diff = line.quantity * (line.rate - overage.rate)
    return out + [
        f"  agreed in writing: {_money(overage.currency, overage.rate)}/h ({overage.agreement}, Section 1)",
        f"  computed: {line.quantity:g} h x ({line.rate:,.2f} - {overage.rate:,.2f}) = {_money(overage.currency, diff)}: "
        f"{_money(overage.currency, abs(diff))} {'above' if diff > 0 else 'below'} the agreed rate",
    ]


def explain_currency(f: Finding, context) -> list[str]:
    """billing.currency_mismatch: the line's currency against the expense's or the agreed rate's."""
    view, line = _finding_line(f, context)
    if line is None:
        return []
    out = _line_header(line)
    if line.item == "expense" and line.ref is not None:
        expected = billing(view).expense_currency.get(line.ref)
        described = _billed_record(context, view, "expense", line.ref)
        out.append(described or f"  the expense it bills: {line.ref}, in {expected}")
    else:
        overage = view.contract.overage
        expected = overage.currency if overage is not None else None
        if overage is not None and overage.rate is not None:
            out.append(f"  agreed in writing: {_money(overage.currency, overage.rate)}/h ({overage.agreement}, Section 1)")
    if expected:
        out.append(f"  computed: the line bills {_money(line.currency, line.amount)} where {expected} is due; "
                   "nothing is converted, so the whole line is in question")
    return out


def explain_duplicate(f: Finding, context) -> list[str]:
    """billing.duplicate_charge: every line billing the same thing, by period and then id; the first
    bills it, the others are duplicates."""
    view, line = _finding_line(f, context)
    if line is None:
        return []
    group = next(((key, lines) for key, lines in charges(view).items() if any(other is line for other in lines[1:])), None)
    if group is None:
        return []
    (ref, charge), lines = group
    what = {"expense": f"expense {ref}", "delivery": f"delivery {ref} itself (deliverable or additional_service)",
            "surcharge": f"the surcharge of delivery {ref}"}[charge]
    out = [f"  lines billing {what}, by period then id:"]
    for other in lines:
        mark = "  <- first: bills it" if other is lines[0] else "  <- again"
        if other is line:
            mark += " (this finding)"
        out.append(_line_row(other, mark))
    described = _billed_record(context, view, "expense" if charge == "expense" else "delivery", ref)
    if described:
        out.append(described)
    return out + [f"  computed: {len(lines)} lines bill it; {lines[0].id} is the first, so {line.id}'s "
                  f"{_money(line.currency, line.amount)} bills it again"]
