"""The inputs domain: ``input.invalid_record``, ``input.unknown_reference`` and ``plugin.error``.

A default plugin: it registers exactly like a third-party one.
"""

from ...markers import hookimpl
from . import rules


@hookimpl
def cso_policy_rules():
    return rules.RULES
