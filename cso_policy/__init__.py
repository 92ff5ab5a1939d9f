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
from .toolkit.fields import MappingError, derive_field, field_at, field_values, map_lookup
from .toolkit.http import HttpClient, Response, credentials_from_env, link_next, redact, retry_after_seconds

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
    "HttpClient",
    "Impact",
    "Incomplete",
    "KindObserver",
    "LeftOut",
    "Level",
    "LintProblem",
    "LintRule",
    "MappingError",
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
    "Response",
    "Rule",
    "Tally",
    "TermsError",
    "Violation",
    "__version__",
    "credentials_from_env",
    "derive_field",
    "fails",
    "field_at",
    "field_values",
    "hookimpl",
    "link_next",
    "map_lookup",
    "passes",
    "redact",
    "retry_after_seconds",
    "rule",
]
