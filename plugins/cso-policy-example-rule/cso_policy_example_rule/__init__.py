"""An example partner plugin: one contract-addendum rule, configured from cso-policy.toml.

Addendum rule ``addendum.long_entry``: a customer's addendum asks that no single
work entry exceed ``max_hours`` (default 8) without a breakdown. An addendum belongs to
the contracts that signed it, so the rule checks only the contracts its options name;
installing the plugin changes no result by itself. Options:

    [plugins.example_rule]
    contracts = ["NW-2026"]      # the contracts with the addendum (default: none)
    max_hours = 6                # default 8
"""

from __future__ import annotations

from cso_policy import hookimpl
from cso_policy import Level, Violation, fails, passes, rule

__version__ = "0.1.0"

NAME = "example_rule"
DEFAULT_MAX_HOURS = 8.0


def _options(audit) -> dict:
    return audit.options.get(NAME, {})


def _entry(id: str, hours: float) -> dict:
    """A work entry for the example contract (EX-2026, line of business retail)."""
    return {"kind": "work", "id": id, "date": "2026-02-03", "lob": "retail", "hours": hours,
            "service": "general_account_consulting"}


@rule(
    "addendum.long_entry",
    "A single work entry longer than the addendum allows",
    "Addendum A §2",
    Level.WARNING,
    kinds=("work",),
    examples=[
        passes(_entry("w1", 8), options={NAME: {"contracts": ["EX-2026"]}},
               note="Addendum A §2, max_hours 8 by default: an 8 h entry is at the limit"),
        fails(_entry("w1", 8.5), flags=["w1"], options={NAME: {"contracts": ["EX-2026"]}},
              note="Addendum A §2, max_hours 8 by default: 8.5 h is 0.5 h over"),
        passes(_entry("w1", 6), options={NAME: {"contracts": ["EX-2026"], "max_hours": 6}},
               note="Addendum A §2 with max_hours = 6: a 6 h entry is at the limit"),
        fails(_entry("w1", 6.25), flags=["w1"], options={NAME: {"contracts": ["EX-2026"], "max_hours": 6}},
              note="Addendum A §2 with max_hours = 6: 6.25 h is 0.25 h over"),
        passes(_entry("w1", 12), options={NAME: {"contracts": ["OTHER"]}},
               note="Addendum A §2 only for contracts = ['OTHER']: 12 h on EX-2026 is not checked"),
        passes(_entry("w1", 12),
               note="no contracts named: the plugin is installed but no contract has the addendum"),
    ],
)
def long_entry(record, contract, pool, audit):
    """Work entries over [plugins.example_rule] max_hours (default 8) need a breakdown, for the
    contracts named in [plugins.example_rule] contracts (none by default)."""
    options = _options(audit)
    if contract.id not in options.get("contracts", ()):
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
    contracts = mine.get("contracts", [])
    if not isinstance(contracts, list) or not all(isinstance(c, str) for c in contracts):
        problems.append(f"[plugins.{NAME}] contracts: expected a list of contract ids, got {contracts!r}")
    return problems
