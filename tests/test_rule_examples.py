"""Every rule is a complete unit: it carries records that must give its finding and records
that must not, and this one parametrised test runs them all, built-in or from an installed
plugin (the way ``cso-policy test`` runs them for a partner)."""

from __future__ import annotations

import pytest

from cso_policy.testing import catalogue, check_example

CATALOGUE = catalogue(autoload=True)
RULES = CATALOGUE.rules
CASES = [pytest.param(r, e, id=f"{r.id}-{'fails' if e.fails else 'passes'}-{i}")
         for r in RULES for i, e in enumerate(r.examples, start=1)]
# Raised outside the audit of records (a plugin failing, a waivers file, what an adapter says of a
# record): no JSON Lines record can give them, so they have no examples. Every other rule has, the
# input.* ones the evaluator raises included.
WITHOUT_RECORDS = {"plugin.error", "waiver.expired", "waiver.unused", "input.incomplete_record"}


@pytest.mark.parametrize(("rule", "example"), CASES)
def test_rule_example(rule, example, tmp_path):
    plugins = [CATALOGUE.pm.get_plugin(rule.plugin)] if rule.plugin else []
    check_example(rule, example, tmp_path, plugins)


@pytest.mark.parametrize("rule", [r for r in RULES if r.id not in WITHOUT_RECORDS], ids=lambda r: r.id)
def test_every_rule_has_examples_that_must_and_must_not_give_its_finding(rule):
    assert any(e.fails for e in rule.examples), f"{rule.id}: no example that gives its finding"
    assert any(not e.fails for e in rule.examples), f"{rule.id}: no example that must not give it"


def test_rules_without_examples_are_the_ones_no_record_can_give():
    assert {r.id for r in RULES if not r.examples} == WITHOUT_RECORDS
