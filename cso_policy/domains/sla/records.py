"""The SLA domain's record: a support ticket and its timeline."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from attrs import define, field, frozen

from ...core.model import Record

Severity = Literal["P1", "P2", "P3"]
Channel = Literal["web", "chat", "phone", "messaging", "email"]


@frozen(kw_only=True)
class SeverityChange:
    """The ticket's severity became ``severity`` at ``at``."""

    at: datetime
    severity: Severity


@define(kw_only=True)
class Ticket(Record):
    """A support ticket: ``severity`` when opened, later changes in ``severity_changes``; the
    first response, updates and resolution are timestamps with a UTC offset."""

    lob: str
    severity: Severity
    opened_at: datetime
    channel: Channel
    first_response_at: datetime | None = None
    updates: list[datetime] = field(factory=list)
    resolved_at: datetime | None = None
    is_bug: bool = False
    rca_delivered_at: datetime | None = None
    security_incident: bool = False
    tier2_direct: bool = False
    severity_changes: list[SeverityChange] = field(factory=list)
    subject: str | None = None

    kind = "ticket"

    @property
    def date(self) -> date:
        return self.opened_at.date()
