"""Rules are data plus pure functions.

A :class:`Rule` names what it checks (id, title, clause, level) and how:
``check(record, contract, pool, audit)`` runs for every record of one of its
``kinds``; ``finish(audit)`` runs once after the last record. Both yield
:class:`~cso_policy.model.Violation`. Run state lives in the audit (its ledger
and ``audit.state``), never on the rule.

Rules that read one shared measurement of a record (the SLA clocks of a ticket)
can name the same ``gate(record, contract, pool, audit) -> bool``: the evaluator
calls it once per record for all of them and runs their checks only when it
returns true. The gate does the shared work (and may keep it in ``audit.state``);
when nothing is wrong, which is most records, none of the checks is called.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from attrs import frozen

from .model import Level, Record, Violation

if TYPE_CHECKING:
    from .context import Audit, ContractView, Pool

Check = Callable[["Record", "ContractView", "Pool | None", "Audit"], Iterable[Violation] | None]
Finish = Callable[["Audit"], Iterable[Violation] | None]
Gate = Callable[["Record", "ContractView", "Pool | None", "Audit"], bool]


@frozen(kw_only=True)
class Rule:
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
            description=(fn.__doc__ or "").strip(),
            **{role: fn},
        )

    return wrap
