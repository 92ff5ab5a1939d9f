"""The entitlement domain's records: work, deliveries, expenses and draft invoice lines."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from attrs import define

from ...core.model import Positive, Record

InvoiceItem = Literal["overage_hours", "additional_service", "expense", "surcharge", "deliverable"]


@define(kw_only=True)
class Work(Record):
    """Hours worked for one line of business on one service (an item of Tables 2-5 and 10, or
    ``expansion`` for work on an expansion scope named by ``expansion``)."""

    date: date
    lob: str
    hours: Positive
    service: str
    expansion: str | None = None
    note: str | None = None

    kind = "work"


@define(kw_only=True)
class Delivery(Record):
    """One delivered deliverable (an item of Tables 2-5); ``international`` for an on-site visit abroad."""

    date: date
    lob: str
    deliverable: str
    international: bool = False
    note: str | None = None

    kind = "delivery"


@define(kw_only=True)
class Expense(Record):
    """Travel and expenses; ``approved_at`` is the customer's approval (None: not approved)."""

    date: date
    amount: Positive
    currency: str
    approved_at: datetime | None
    lob: str | None = None
    related: str | None = None
    description: str | None = None

    kind = "expense"


@define(kw_only=True)
class InvoiceLine(Record):
    """One line of the draft invoice for a contract period (``2026-Q1``, ``2026``); ``ref`` names
    the delivery or expense it bills."""

    lob: str
    period: str
    item: InvoiceItem
    quantity: Positive
    rate: Positive
    amount: Positive
    currency: str
    ref: str | None = None
    description: str | None = None

    kind = "invoice_line"
