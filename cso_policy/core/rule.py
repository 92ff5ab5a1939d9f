"""Rules are data plus pure functions, each a complete unit with its own examples.

A :class:`Rule` names what it checks (id, title, clause, level) and how:
``check(record, contract, pool, audit)`` runs for every record of one of its
``kinds``; ``finish(audit)`` runs once after the last record. Both yield
:class:`~cso_policy.Violation`. Run state lives in the audit (the domains' ledgers
and ``audit.state``), never on the rule. ``examples`` are records that must and must
not give the rule's finding (:func:`fails`, :func:`passes`); one test runs every rule's
examples, and ``cso-policy test`` runs them for a partner's rules. ``explain`` says what
contributed to one finding, for ``cso-policy explain``.

Rules that read one shared measurement of a record (the SLA clocks of a ticket)
can name the same ``gate(record, contract, pool, audit) -> bool``: the evaluator
calls it once per record for all of them and runs their checks only when it
returns true. The gate does the shared work (and may keep it in ``audit.state``);
when nothing is wrong, which is most records, none of the checks is called.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from attrs import field, frozen

from .model import Finding, Level, Record, Violation

if TYPE_CHECKING:
    from .context import Audit, ContractView, Pool

Check = Callable[["Record", "ContractView", "Pool | None", "Audit"], Iterable[Violation] | None]
Finish = Callable[["Audit"], Iterable[Violation] | None]
Gate = Callable[["Record", "ContractView", "Pool | None", "Audit"], bool]
Explain = Callable[["Finding", Any], Iterable[str]]
"""``explain(finding, context)`` -> lines saying what contributed (``context`` is a
:class:`cso_policy.ExplainContext`: the contracts and the run's records)."""

NO_RECORD = "-"  # how an example names a finding that names no record


@frozen(kw_only=True)
class Example:
    """Records that must give the rule's finding (``flags`` names the records it must flag)
    or must not (``flags`` empty).

    :param records: record dicts; ``contract`` defaults to the example contract's id.
    :param flags: the ids of the records the rule's findings must name, in any order, one
        per finding (``"-"`` for a finding that names no record); empty: no finding at all.
    :param contract: changes to the example contract (see ``cso_policy.testing``), e.g.
        ``{"tier": "foundations"}`` or ``{"overage": None}``.
    :param as_of: ``--as-of`` for the run (ISO 8601; default the end of the example term).
    :param options: the ``[plugins]`` options table for the run.
    :param note: why, with the arithmetic from the terms.
    """

    records: tuple[dict, ...]
    flags: tuple[str, ...] = ()
    contract: dict = field(factory=dict)
    as_of: str | None = None
    options: dict = field(factory=dict)
    note: str = ""

    @property
    def fails(self) -> bool:
        return bool(self.flags)


def fails(*records: dict, flags: Iterable[str], contract: dict | None = None, as_of: str | None = None,
          options: dict | None = None, note: str = "") -> Example:
    """An example the rule must flag: its findings name exactly the records in *flags*."""
    flags = tuple(flags)
    if not flags:
        raise ValueError("a failing example names the records the rule flags")
    return Example(records=records, flags=flags, contract=contract or {}, as_of=as_of, options=options or {}, note=note)


def passes(*records: dict, contract: dict | None = None, as_of: str | None = None, options: dict | None = None,
           note: str = "") -> Example:
    """An example the rule must not flag at all."""
    return Example(records=records, contract=contract or {}, as_of=as_of, options=options or {}, note=note)


@frozen(kw_only=True)
class Rule:
    """A rule: what it checks and how.

    :param id: ``domain.name``, unique across plugins.
    :param title: one line for the catalogue.
    :param clause: the clause of the terms it enforces (``Section 1``, ``Table 8``).
    :param level: the level of its findings (a violation may set another).
    :param kinds: the record kinds ``check`` runs for.
    :param check: ``check(record, contract, pool, audit)`` -> violations, per record.
    :param finish: ``finish(audit)`` -> violations, once after the last record.
    :param gate: ``gate(record, contract, pool, audit)`` -> bool, shared by rules that read one
        measurement of a record: called once per record for all of them.
    :param description: what it checks, for ``explain`` and SARIF (the docstring by default).
    :param plugin: the plugin that added it (set by the catalogue; None for built-in rules).
    :param examples: records that must and must not give its finding.
    :param explain: ``explain(finding, context)`` -> lines on what contributed to a finding.
    """

    id: str
    title: str
    clause: str
    level: Level
    kinds: tuple[str, ...] = ()
    check: Check | None = None
    finish: Finish | None = None
    gate: Gate | None = None
    description: str = ""
    plugin: str | None = None
    examples: tuple[Example, ...] = ()
    explain: Explain | None = None

    def __attrs_post_init__(self):
        # A rule with neither function is raised by the evaluator itself (input.*).
        if self.check is not None and not self.kinds:
            raise ValueError(f"rule {self.id}: a per-record check needs the record kinds it reads")
        if self.gate is not None and self.check is None:
            raise ValueError(f"rule {self.id}: a gate decides whether the per-record check runs; there is none")


def rule(
    id: str,
    title: str,
    clause: str,
    level: Level,
    *,
    kinds: tuple[str, ...] = (),
    finish: bool = False,
    gate: Gate | None = None,
    examples: Iterable[Example] = (),
    explain: Explain | None = None,
) -> Callable[[Callable], Rule]:
    """Decorator form: ``@rule("sla.response", "...", "Table 8", Level.ERROR, kinds=("ticket",))``.

    The decorated function becomes the check (or, with ``finish=True``, the finish);
    its docstring becomes the rule's description.
    """

    def wrap(fn: Callable) -> Rule:
        role = "finish" if finish else "check"
        return Rule(
            id=id,
            title=title,
            clause=clause,
            level=level,
            kinds=kinds,
            gate=gate,
            examples=tuple(examples),
            explain=explain,
            description=(fn.__doc__ or "").strip(),
            **{role: fn},
        )

    return wrap
