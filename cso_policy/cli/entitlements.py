"""``cso-policy entitlements``: per package, what it includes, what is used and what is left."""

from __future__ import annotations

import difflib
import io
import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

import click

from ..core.context import ContractView
from ..core.pipeline import Catalogue, audit
from ..errors import UsageError
from ..inputs.workspace import CONFIG_NAME
from ..plugins import plugin_output_to_stderr
from . import AsOf, handle_errors, plugin_specs, warn_plugin_problems
from .run import AuditSpec, set_up

NO_RECORDS = "no records given: used 0 shows nothing was read"


PACKAGE_KEYS = ("package", "tier", "lines_of_business")
"""What the json table of a package holds before its sections; no section may take these keys."""


def package_sections(cat: Catalogue, view: ContractView, moment: datetime) -> list[tuple[dict, list]]:
    """Per package: its json table and the sections every domain shows of it (a plugin's wrong
    section is left out, and a warning on stderr: see :meth:`Catalogue.entitlement_sections`)."""
    out = []
    for pool in view.pools.values():
        sections = cat.entitlement_sections(pool, moment, reserved=PACKAGE_KEYS)
        table = {"package": pool.id, "tier": pool.tier, "lines_of_business": pool.lobs,
                 **{s.key: s.data for s in sections}}
        out.append((table, sections))
    return out


def write_entitlements(cat: Catalogue, view: ContractView, moment: datetime, stream: TextIO, fmt: str = "text",
                       note: str | None = None) -> None:
    """The entitlements of *view* as text or json; *note* (e.g. that no records were given) is said too."""
    c = view.contract
    packages = package_sections(cat, view, moment)
    as_of = view.term_day(moment).isoformat()
    if fmt == "json":
        table = {"contract": c.id, "customer": c.customer, "policy": view.policy_ref,
                 "term": {"start": c.term.start.isoformat(), "end": c.term.end.isoformat()},
                 "as_of": as_of, **({"note": note} if note else {}), "packages": [t for t, _ in packages]}
        stream.write(json.dumps(table, indent=2) + "\n")
        return
    w = stream.write
    w(f"{c.id} {c.customer} ({view.policy_ref}), term {c.term.start.isoformat()}..{c.term.end.isoformat()}, as of {as_of}\n")
    if note:
        w(f"{note}\n")
    for table, sections in packages:
        w(f"\npackage {table['package']}: {table['tier']}; lines of business: {', '.join(table['lines_of_business'])}\n")
        for section in sections:
            for line in section.text:
                w(line + "\n")


def _is_path(contract: str) -> bool:
    """CONTRACT names a file (or a glob of files) rather than a contract id."""
    return (Path(contract).is_file() or contract.endswith(".toml") or "/" in contract or os.sep in contract
            or any(ch in contract for ch in "*?["))


def _did_you_mean(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    if not close:
        by_lower = {c.lower(): c for c in choices}
        close = [by_lower[m] for m in difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.5)]
    return f"; did you mean {close[0]!r}?" if close else ""


@click.command("entitlements")
@click.argument("contract", metavar="CONTRACT")
@click.argument("workspace", required=False, type=click.Path(path_type=Path))
@click.option("--records", "record_paths", multiple=True,
              help="Record file, folder or glob (repeatable; replaces the workspace's records).")
@click.option("--policies", "policy_paths", multiple=True, type=click.Path(path_type=Path),
              help="Extra policy folder (repeatable).")
@click.option("--as-of", type=AsOf(), help="The current period is the one holding this time (default: now).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@handle_errors
def command(contract, workspace, record_paths, policy_paths, as_of, fmt):
    """What each package of CONTRACT is entitled to, used so far and left.

    CONTRACT is a contract id of WORKSPACE (a folder with a cso-policy.toml; default: the
    current folder when it has one) or a contract file. With a workspace, its records,
    policies and plugins are used; --records replaces its records.
    """
    if workspace is None and (Path(".") / CONFIG_NAME).is_file():
        workspace = Path(".")
    by_path = _is_path(contract)
    if not by_path and workspace is None:
        raise UsageError(f"{contract!r} is not a contract file; to look up a contract id, give a WORKSPACE "
                         f"folder with a {CONFIG_NAME} (there is none in the current folder)")
    moment = as_of or datetime.now(timezone.utc)
    # until the output is whole, what plugins print goes to stderr: stdout is for the output
    with plugin_output_to_stderr():
        cat, text = _entitlements(contract, workspace, record_paths, policy_paths, moment, fmt, by_path)
    sys.stdout.write(text)
    warn_plugin_problems(cat)


def _entitlements(contract, workspace, record_paths, policy_paths, moment, fmt, by_path) -> tuple[Catalogue, str]:
    setup = set_up(AuditSpec(
        workspace=workspace, contract_paths=(contract,) if by_path else (), record_paths=tuple(record_paths),
        policy_paths=tuple(policy_paths), as_of=moment, select=(), ignore=(), waivers_path=None,
        baseline_path=None, plugins=plugin_specs(), cwd=os.getcwd(),
    ))
    cat = setup.catalogue
    if by_path:
        chosen = setup.contracts[0]
    else:
        ids = [c.id for c in setup.contracts]
        chosen = next((c for c in setup.contracts if c.id == contract), None)
        if chosen is None:
            hint = _did_you_mean(contract, ids) or (f" (its contracts: {', '.join(sorted(ids)[:10])}"
                                                    f"{', ...' if len(ids) > 10 else ''})")
            raise UsageError(f"no contract {contract!r} in {workspace / CONFIG_NAME}{hint}")
    rules = [r for r in cat.rules if r.id.startswith("input.")]
    # "used so far": records dated after the as-of day are not counted
    last_day = moment.astimezone(ZoneInfo(chosen.timezone)).date().isoformat()
    day = cat.kinds.day
    until = lambda streams: [(raw for raw in s if day(raw[2]) <= last_day) for s in streams]  # noqa: E731
    _, views = audit(cat, [chosen], setup.inputs, base=setup.record_base, rules=rules, as_of=moment,
                     policy_roots=setup.policy_roots, plugin_options=setup.options, wrap_streams=until)
    out = io.StringIO()
    write_entitlements(cat, views[chosen.id], moment, out, fmt, note=None if setup.inputs else NO_RECORDS)
    return cat, out.getvalue()
