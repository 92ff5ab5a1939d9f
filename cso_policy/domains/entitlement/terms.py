"""The entitlement module of a policy (``entitlement.toml``): Section 1 hours, overage and T&E,
contract periods (I-1), the frequency words of Tables 2-5 and 10 with their meaning (I-8), the
allowances (Tables 3-4, I-2), the items and channels per tier, Table 6 support with the
conditions of its cells, the level of a delivery beyond its frequency per table (I-7) and the
reading of each cell the terms leave blank (I-9).

:func:`load` structures the tables once per policy version; :func:`entitlement_terms` is
what rules read. Each tier's cell of an item is resolved to a :class:`Cell` (the seed's word
and what it means) and cached. A version without the I-7 or I-9 tables keeps the behaviour
they replace: every overrun at the rule's level, and no blank cells.
"""

from __future__ import annotations

from typing import Literal

from attrs import evolve, field, frozen

from ...core.model import Level
from ...errors import ConfigError
from ...policy.registry import CORE_MODULE, Policy, TermsError, structured

MODULE = CORE_MODULE

NOT_INCLUDED = "not_included"
UNLIMITED = "unlimited"
LIMITED = "limited"
ADDITIONAL_COST = "additional_cost"
BLANK = ""  # a cell the terms leave blank (I-9): read through [blank_cells]
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
    name: str | None = None  # the row of the terms ("Direct Access to Tier 2 Support")
    condition: str | None = None  # the row's condition, verbatim ("when available")


@frozen(kw_only=True)
class SupportTerms:
    clause: str
    business_critical_24x7: dict[str, str]
    enhanced_sla: dict[str, str]
    # the condition of a row, verbatim: business_critical_24x7 = "English Only"
    conditions: dict[str, str] = field(factory=dict)


@frozen(kw_only=True)
class FrequencyOverrun:
    """I-7: the level of a delivery beyond its frequency, by the clause (table) of its item."""

    level: dict[str, Literal["info", "warning", "error"]]


@frozen(kw_only=True)
class BlankCells:
    """I-9: how each cell the terms leave blank ("" in an item's cells) is read:
    ``cells[item][tier]`` is the frequency word it is read as; ``reading`` says why."""

    clause: str
    reading: str
    cells: dict[str, dict[str, str]]


@frozen
class Cell:
    """What one tier gets of one item: the seed's word and what it means."""

    word: str
    status: str  # NOT_INCLUDED | UNLIMITED | LIMITED | ADDITIONAL_COST
    max: int | None = None
    period: str | None = None
    blank: bool = False  # the terms leave the cell blank; *word* is its reading (I-9)

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
    frequency_overrun: FrequencyOverrun | None = None  # I-7; None: every overrun at the rule's level
    blank_cells: BlankCells | None = None  # I-9; None: the version has no blank cells
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
            word = terms.cells.get(tier, "–")
            cached = self._cells[key] = self.blank_cell(item, tier) if word == BLANK else self.word_cell(word)
        return cached

    def blank_reading(self, item: str, tier: str) -> str | None:
        """The word a cell the terms leave blank is read as (I-9), or None without a reading."""
        if self.blank_cells is None:
            return None
        return self.blank_cells.cells.get(item, {}).get(tier)

    def blank_cell(self, item: str, tier: str) -> Cell:
        reading = self.blank_reading(item, tier)
        if reading is None or reading == BLANK:
            raise ConfigError(f"{self.ref}: the {tier} cell of {item} is blank and [blank_cells] gives no reading")
        return evolve(self.word_cell(reading), blank=True)

    def overrun_level(self, clause: str) -> Level | None:
        """The level of a delivery beyond its frequency for an item of *clause* (I-7); None:
        the rule's own level (a version without [frequency_overrun], or a table it does not name)."""
        if self.frequency_overrun is None:
            return None
        name = self.frequency_overrun.level.get(clause)
        return Level.parse(name) if name is not None else None

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
    _check_tiers(terms)
    if terms.overage.formula not in OVERAGE_FORMULAS:
        raise TermsError("$.overage.formula", f"{terms.overage.formula!r} is not supported "
                         f"(known: {', '.join(OVERAGE_FORMULAS)})")
    problems = blank_cell_problems(terms)
    if problems:
        raise TermsError(*problems[0])
    object.__setattr__(terms, "ref", policy.ref)
    return terms


def _check_tiers(terms: EntitlementTerms) -> None:
    """Every table rules index by tier (Section 1 hours) has a value for every tier of
    ``tiers``, and every alias names one: a missing tier is a TermsError naming the table and
    the tier, never a KeyError in a rule. (Cells and rows a tier may leave out read as "–".)"""
    for path, table in (("$.hours.per_quarter", terms.hours.per_quarter), ("$.hours.per_year", terms.hours.per_year)):
        missing = [t for t in terms.tiers if t not in table]
        if missing:
            raise TermsError(path, f"has no value for tier(s) {', '.join(missing)} "
                             f"(every tier of $.tiers needs one: {', '.join(terms.tiers)})")
    for alias, tier in terms.tier_aliases.items():
        if tier not in terms.tiers:
            raise TermsError(f"$.tier_aliases.{alias}", f"names unknown tier {tier!r} "
                             f"(expected one of {', '.join(terms.tiers)})")


def blank_cell_problems(terms: EntitlementTerms) -> list[tuple[str, str]]:
    """(field path, message) of every blank cell without a reading and every reading of a cell
    that is not blank (I-9)."""
    out = []
    for name, item in terms.items.items():
        for tier, word in item.cells.items():
            if word == BLANK and not terms.blank_reading(name, tier):
                out.append((f"$.items.{name}.cells.{tier}", "a blank cell needs its reading in [blank_cells] cells"))
    for name, tiers in (terms.blank_cells.cells.items() if terms.blank_cells else ()):
        for tier in tiers:
            item = terms.items.get(name)
            if item is None or item.cells.get(tier) != BLANK:
                out.append((f"$.blank_cells.cells.{name}.{tier}",
                            f"reads a cell that is not blank ({name} {tier}: "
                            f"{item.cells.get(tier, '–') if item else 'no such item'!r})"))
    return out


def entitlement_terms(policy: Policy) -> EntitlementTerms:
    """The policy's entitlement terms (every policy has them)."""
    return policy.terms(MODULE)
