"""The expansion domain (Section 9, Table 9): the ``expansion_scope`` record kind, work on
expansion scopes, the ``expansion`` policy module, budgets and the ``expansion.*`` rules.

A default plugin: it registers exactly like a third-party one.
"""

from ...core.kinds import KindObserver, RecordKind
from ...markers import hookimpl
from ...policy.registry import PolicyModule
from . import lint, rules, show, terms
from .ledger import check_scope, check_work, observe_scope, observe_work
from .records import ExpansionScope


@hookimpl
def cso_policy_record_kinds():
    return [
        RecordKind(name="expansion_scope", cls=ExpansionScope, dated_by="approved_at", observe=observe_scope,
                   check=check_scope, description="an approved expansion-pack deployment and its hours"),
        KindObserver(kind="work", observe=observe_work, check=check_work),
    ]


@hookimpl
def cso_policy_policy_modules():
    return [PolicyModule(name=terms.MODULE, load=terms.load, lint=lint.lint_module, show=show.policy_lines)]


@hookimpl
def cso_policy_rules():
    return rules.RULES


@hookimpl
def cso_policy_lint_rules():
    return lint.LINT_RULES


@hookimpl
def cso_policy_lint_contract(contract, policy):
    return lint.lint_contract(contract, policy)


@hookimpl
def cso_policy_entitlements(pool, moment):
    return show.sections(pool, moment)
