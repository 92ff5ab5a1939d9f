"""``cso-policy lint``: contract and policy files, the pre-commit hook."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import exitcodes
from ..core.model import Level
from ..lint.output import write_lint
from . import catalogue, handle_errors, warn_plugin_problems, write_to


@click.command("lint")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--policies", "policy_paths", multiple=True, type=click.Path(path_type=Path), help="Extra policy folder (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif"]), default="text", show_default=True)
@click.option("--output", "-o", type=click.Path(path_type=Path))
@click.option("--fail-on", type=click.Choice(["error", "warning", "never"]), default="error", show_default=True)
@handle_errors
def command(paths, policy_paths, fmt, output, fail_on):
    """Check contract and policy files (files or folders, recursively); the pre-commit hook.

    Exit 0 clean, 1 errors (or warnings with --fail-on warning), 2 usage.
    """
    if not paths:
        raise click.UsageError("give contract or policy files or folders to lint")
    cat = catalogue()
    linter = cat.linter(policy_paths)
    found = linter.lint_paths(paths)
    write_to(output, lambda stream: write_lint(found, stream, fmt, cat.lint_rules.values(), len(linter.checked)))
    cat.pm.problems.extend(linter.problems)
    warn_plugin_problems(cat)
    threshold = {"error": Level.ERROR, "warning": Level.WARNING}.get(fail_on)
    failing = threshold is not None and any(f.level >= threshold for f in found)
    sys.exit(exitcodes.FINDINGS if failing else exitcodes.OK)
