"""The entitlement module of a policy (``entitlement.toml``): Section 1 hours, overage and T&E,
contract periods (I-1), the frequency words of Tables 2-5 and 10 with their meaning, the
allowances (Tables 3-4, I-2), the items and channels per tier, and Table 6 support.

:func:`load` structures the tables once per policy version; :func:`entitlement_terms` is
what rules read. Each tier's cell of an item is resolved to a :class:`Cell` (the seed's word
and what it means) and cached.
"""

from __future__ import annotations

from attrs import field, frozen

from ...errors import ConfigError
from ...policy.registry import CORE_MODULE, Policy, TermsError, structured

MODULE = CORE_MODULE

NOT_INCLUDED = "not_included"
UNLIMITED = "unlimited"
LIMITED = "limited"
ADDITIONAL_COST = "additional_cost"
EXPANSION_SERVICE = "expansion"  # a work record's service for work on an expansion scope
# Section 1: billable overage of a contract year = max(sum of quarterly excess, annual excess)
OVERAGE_FORMULAS = ("max_quarterly_annual",)
PERIOD_ANCHORS = ("term_start",)


@frozen(kw_only=True)
class FrequencyWord:
    max: int | None = None
    period: str | None = None
    unlimited: bool = False
    additional_cost: bool = False
    included: bool = True


@frozen(kw_only=True)
class Hours:
    clause: str
    per_quarter: dict[str, float]
    per_year: dict[str, float]
    count_additional_cost: bool = False


@frozen(kw_only=True)
class OverageTerms:
    clause: str
    formula: str
    requires_written_rate: bool = True


@frozen(kw_only=True)
class ExpenseTerms:
    clause: str
    requires_advance_approval: bool = True


@frozen(kw_only=True)
class PeriodTerms:
    """How contract periods are counted: from the term start (I-1), weeks of ``week_days``."""

    anchor: str
    week_days: int = 7


@frozen(kw_only=True)
class AllowanceTerms:
    name: str
    clause: str
    period: str
    scope: str
    hours: dict[str, float]


@frozen(kw_only=True)
class ItemTerms:
    name: str
    clause: str
    cells: dict[str, str]
    allowance: str | None = None
    international_surcharge: bool = False


@frozen(kw_only=True)
class ChannelTerms:
    clause: str
    cells: dict[str, str]


@frozen(kw_only=True)
class SupportTerms:
    clause: str
    business_critical_24x7: dict[str, str]
    enhanced_sla: dict[str, str]


@frozen
class Cell:
    """What one tier gets of one item: the seed's word and what it means."""

    word: str
    status: str  # NOT_INCLUDED | UNLIMITED | LIMITED | ADDITIONAL_COST
    max: int | None = None
    period: str | None = None

    @property
    def included(self) -> bool:
        return self.status in (UNLIMITED, LIMITED)


@frozen(kw_only=True)
class EntitlementTerms:
    tiers: list[str]
    hours: Hours
    overage: OverageTerms
    expenses: ExpenseTerms
    periods: PeriodTerms
    frequencies: dict[str, FrequencyWord]
    allowances: dict[str, AllowanceTerms]
    items: dict[str, ItemTerms]
    channels: dict[str, ChannelTerms]
    support: SupportTerms
    tier_aliases: dict[str, str] = field(factory=dict)
    ref: str = field(default="", init=False, eq=False)  # the policy's id@version, for messages
    _cells: dict = field(factory=dict, init=False, eq=False, repr=False)

    @property
    def services(self) -> frozenset[str]:
        """What a work record's ``service`` may name: every item, and expansion work."""
        found = self._cells.get("services")
        if found is None:
            found = self._cells["services"] = frozenset(self.items) | {EXPANSION_SERVICE}
        return found

    def cell(self, tier: str, item: str) -> Cell | None:
        """The cell of *item* for *tier*, or None when the item is unknown."""
        key = (tier, item)
        cached = self._cells.get(key)
        if cached is None:
            terms = self.items.get(item)
            if terms is None:
                return None
            cached = self._cells[key] = self.word_cell(terms.cells.get(tier, "–"))
        return cached

    def word_cell(self, word: str) -> Cell:
        """What a frequency word means (``Monthly`` -> at most 1 a month)."""
        meaning = self.frequencies.get(word)
        if meaning is None:
            raise ConfigError(f"{self.ref}: unknown frequency word {word!r}")
        if not meaning.included:
            return Cell(word, NOT_INCLUDED)
        if meaning.additional_cost:
            return Cell(word, ADDITIONAL_COST)
        if meaning.unlimited:
            return Cell(word, UNLIMITED)
        return Cell(word, LIMITED, meaning.max, meaning.period)

    def channel_included(self, tier: str, channel: str) -> bool:
        """Whether *tier* includes the support *channel* (Tables 5-6)."""
        key = ("channel", tier, channel)
        included = self._cells.get(key)
        if included is None:
            terms = self.channels.get(channel)
            included = self._cells[key] = terms is not None and self.word_cell(terms.cells.get(tier, "–")).included
        return included


def load(tables: dict, policy: Policy) -> EntitlementTerms:
    terms = structured(tables, EntitlementTerms)
    if terms.overage.formula not in OVERAGE_FORMULAS:
        raise TermsError("$.overage.formula", f"{terms.overage.formula!r} is not supported "
                         f"(known: {', '.join(OVERAGE_FORMULAS)})")
    object.__setattr__(terms, "ref", policy.ref)
    return terms


def entitlement_terms(policy: Policy) -> EntitlementTerms:
    """The policy's entitlement terms (every policy has them)."""
    return policy.terms(MODULE)
