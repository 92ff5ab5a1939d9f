"""An example partner plugin: one contract-addendum rule, configured from cso-policy.toml.

Addendum rule ``addendum.long_entry``: a customer's addendum asks that no single
work entry exceed ``max_hours`` (default 8) without a breakdown. Options:

    [plugins.example_rule]
    max_hours = 6
    contracts = ["NW-2026"]      # optional: only these contracts (default: all)
"""

from __future__ import annotations

from cso_policy import hookimpl
from cso_policy import Level, Violation, rule

__version__ = "0.1.0"

NAME = "example_rule"
DEFAULT_MAX_HOURS = 8.0


def _options(audit) -> dict:
    return audit.options.get(NAME, {})


@rule(
    "addendum.long_entry",
    "A single work entry longer than the addendum allows",
    "Addendum A §2",
    Level.WARNING,
    kinds=("work",),
)
def long_entry(record, contract, pool, audit):
    """Work entries over [plugins.example_rule] max_hours (default 8) need a breakdown."""
    options = _options(audit)
    only = options.get("contracts")
    if only is not None and contract.id not in only:
        return
    limit = float(options.get("max_hours", DEFAULT_MAX_HOURS))
    if record.hours > limit:
        yield Violation(
            record=record,
            message=f"one work entry of {record.hours:g} h; the addendum allows {limit:g} h per entry",
            impact=contract.money(record.hours - limit),
        )


@hookimpl
def cso_policy_rules():
    return [long_entry]


@hookimpl
def cso_policy_configure(options, root):
    mine = options.get(NAME, {})
    problems = []
    unknown = set(mine) - {"max_hours", "contracts"}
    if unknown:
        problems.append(f"[plugins.{NAME}] unknown option(s): {', '.join(sorted(unknown))}")
    value = mine.get("max_hours", DEFAULT_MAX_HOURS)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        problems.append(f"[plugins.{NAME}] max_hours: expected a positive number, got {value!r}")
    return problems
