"""Rules are data plus pure functions.

A :class:`Rule` names what it checks (id, title, clause, level) and how:
``check(record, contract, pool, audit)`` runs for every record of one of its
``kinds``; ``finish(audit)`` runs once after the last record. Both yield
:class:`~cso_policy.model.Violation`. Run state lives in the audit (its ledger
and ``audit.state``), never on the rule.
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


@frozen(kw_only=True)
class Rule:
    id: str
    title: str
    clause: str
    level: Level
    kinds: tuple[str, ...] = ()
    check: Check | None = None
    finish: Finish | None = None
    description: str = ""
    plugin: str | None = None

    def __attrs_post_init__(self):
        # A rule with neither function is raised by the evaluator itself (input.*).
        if self.check is not None and not self.kinds:
            raise ValueError(f"rule {self.id}: a per-record check needs the record kinds it reads")


def rule(
    id: str, title: str, clause: str, level: Level, *, kinds: tuple[str, ...] = (), finish: bool = False
) -> Callable[[Callable], Rule]:
    """Decorator form: ``@rule("sla.response", "...", "Table 8", Level.ERROR, kinds=("ticket",))``.

    The decorated function becomes the check (or, with ``finish=True``, the finish);
    its docstring becomes the rule's description.
    """

    def wrap(fn: Callable) -> Rule:
        role = "finish" if finish else "check"
        return Rule(
            id=id, title=title, clause=clause, level=level, kinds=kinds, description=(fn.__doc__ or "").strip(), **{role: fn}
        )

    return wrap
