"""The expansion domain's record: an approved expansion-pack scope (Section 9)."""

from __future__ import annotations

from datetime import date, datetime

from attrs import define

from ...core.model import PackKind, Positive, Record


@define(kw_only=True)
class ExpansionScope(Record):
    """One approved deployment of a package's expansion pack: its ``use`` (a Section 9 use) and
    the ``hours`` approved for it."""

    package: str
    pack: PackKind
    use: str
    hours: Positive
    approved_at: datetime
    description: str | None = None

    kind = "expansion_scope"

    @property
    def date(self) -> date:
        return self.approved_at.date()
