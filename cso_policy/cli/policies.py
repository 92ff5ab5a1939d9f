"""``cso-policy policies``: list, show, diff and lock policy versions."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import exitcodes
from ..core.pipeline import Catalogue
from ..policy.diff import format_diff
from ..policy.lock import write_lock
from ..policy.registry import Policy, builtin_policy_root
from . import catalogue, handle_errors, warn_plugin_problems


def show_policy(cat: Catalogue, policy: Policy) -> str:
    """The manifest, what each module shows of its tables, and the readings (I-n)."""
    m = policy.manifest
    out = [f"{policy.ref}: {m.title} (effective {m.effective}){' [example, not LivePerson terms]' if m.example else ''}",
           f"source {m.source.file} sha256 {m.source.sha256}"]
    for name in policy.modules:
        module = cat.policy_modules.get(name)
        if module is not None and module.show is not None and policy.terms(name) is not None:
            out += module.show(policy.terms(name), policy)
    out += ["", "Readings of ambiguous terms"]
    out += [f"  {r.id} ({r.parameter}): {r.text}" for r in m.readings]
    return "\n".join(out) + "\n"


@click.command("policies")
@click.argument("action", type=click.Choice(["list", "show", "diff", "lock"]), default="list")
@click.argument("refs", nargs=-1)
@click.option("--policies", "policy_paths", multiple=True, type=click.Path(path_type=Path), help="Extra policy folder (repeatable).")
@handle_errors
def command(action, refs, policy_paths):
    """list | show ID@VER | diff A@V B@V | lock [ROOT]: policy versions, their readings and changes.

    `lock` records the content hash of every version under ROOT (default: the
    bundled policies/) in ROOT/LOCK; lint then fails when a locked version changes.
    """
    cat = catalogue()
    warn_plugin_problems(cat)
    registry = cat.registry(policy_paths)
    if action == "list":
        for name, folder in sorted(registry.available().items()):
            example = " [example]" if registry.get(name).manifest.example else ""
            click.echo(f"{name}  {folder}{example}")
    elif action == "show":
        if len(refs) != 1:
            raise click.UsageError("policies show needs one ID@VERSION")
        click.echo(show_policy(cat, registry.get(refs[0])), nl=False)
    elif action == "diff":
        if len(refs) != 2:
            raise click.UsageError("policies diff needs two ID@VERSION")
        click.echo(format_diff(registry.get(refs[0]), registry.get(refs[1])), nl=False)
    else:
        root = Path(refs[0]) if refs else builtin_policy_root()
        added, refused = write_lock(root)
        for ref in added:
            click.echo(f"locked {ref}")
        for ref in refused:
            click.echo(f"refused {ref}: changed since it was locked; add a new version instead", err=True)
        if refused:
            sys.exit(exitcodes.FINDINGS)
