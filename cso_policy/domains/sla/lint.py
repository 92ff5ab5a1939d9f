"""Lint check of the SLA domain: the sla module of a policy version."""

from __future__ import annotations

from ...lint.catalogue import LintProblem
from .terms import sla_problems


def lint_module(tables: dict, tiers: list[str]) -> list[LintProblem]:
    """The first problem of an sla.toml (its tiers, targets and units), as policy.schema."""
    if not tiers:
        return []
    return [LintProblem(rule="policy.schema", message=f"{path}: {msg}", path=path) for path, msg in sla_problems(tables, tiers)]
