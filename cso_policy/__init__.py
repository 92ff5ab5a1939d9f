"""cso-policy: audit customer-success engagement records against contract terms.

The public API: everything a plugin (a rule, a record kind, a record source, a report format,
a policy module) needs is importable from here, and nothing else of the package is promised.
"""

from ._version import __version__
from .core.calendar import ContractCalendar, Periods
from .core.context import Audit, ContractView, Pool, Tally
from .core.explain import ExplainContext
from .core.kinds import KindObserver, RecordKind
from .core.model import Contract, Finding, Impact, Level, Package, Positive, Record, Violation
from .core.rule import Example, Rule, fails, passes, rule
from .core.sections import EntitlementSection
from .errors import ConfigError, CsoPolicyError
from .inputs.sources import BadLine, Incomplete, LeftOut, RawRecord, RecordSource
from .lint.catalogue import LintProblem, LintRule
from .markers import PROJECT, hookimpl
from .policy.registry import Policy, PolicyModule, TermsError
from .reports import Report, ReportFormat

__all__ = [
    "Audit",
    "BadLine",
    "ConfigError",
    "Contract",
    "ContractCalendar",
    "ContractView",
    "CsoPolicyError",
    "EntitlementSection",
    "Example",
    "ExplainContext",
    "Finding",
    "Impact",
    "Incomplete",
    "KindObserver",
    "LeftOut",
    "Level",
    "LintProblem",
    "LintRule",
    "PROJECT",
    "Package",
    "Periods",
    "Policy",
    "PolicyModule",
    "Pool",
    "Positive",
    "RawRecord",
    "Record",
    "RecordKind",
    "RecordSource",
    "Report",
    "ReportFormat",
    "Rule",
    "Tally",
    "TermsError",
    "Violation",
    "__version__",
    "fails",
    "hookimpl",
    "passes",
    "rule",
]
