"""``cso-policy entitlements``: per package, what it includes, what is used and what is left."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

import click

from ..core.context import ContractView
from ..core.pipeline import Catalogue, audit
from ..inputs.workspace import RecordInput, load_contracts
from . import AsOf, catalogue, handle_errors, warn_plugin_problems


def package_sections(cat: Catalogue, view: ContractView, moment: datetime) -> list[tuple[dict, list]]:
    """Per package: its json table and the sections every domain shows of it."""
    out = []
    for pool in view.pools.values():
        sections = cat.entitlement_sections(pool, moment)
        table = {"package": pool.id, "tier": pool.tier, "lines_of_business": pool.lobs,
                 **{s.key: s.data for s in sections}}
        out.append((table, sections))
    return out


def write_entitlements(cat: Catalogue, view: ContractView, moment: datetime, stream: TextIO, fmt: str = "text") -> None:
    c = view.contract
    packages = package_sections(cat, view, moment)
    as_of = view.term_day(moment).isoformat()
    if fmt == "json":
        table = {"contract": c.id, "customer": c.customer, "policy": view.policy_ref,
                 "term": {"start": c.term.start.isoformat(), "end": c.term.end.isoformat()},
                 "as_of": as_of, "packages": [t for t, _ in packages]}
        stream.write(json.dumps(table, indent=2) + "\n")
        return
    w = stream.write
    w(f"{c.id} {c.customer} ({view.policy_ref}), term {c.term.start.isoformat()}..{c.term.end.isoformat()}, as of {as_of}\n")
    for table, sections in packages:
        w(f"\npackage {table['package']}: {table['tier']}; lines of business: {', '.join(table['lines_of_business'])}\n")
        for section in sections:
            for line in section.text:
                w(line + "\n")


@click.command("entitlements")
@click.argument("contract", type=click.Path(path_type=Path))
@click.option("--records", "record_paths", multiple=True, help="Record file, folder or glob (repeatable).")
@click.option("--policies", "policy_paths", multiple=True, type=click.Path(path_type=Path))
@click.option("--as-of", type=AsOf(), help="The current period is the one holding this time (default: now).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@handle_errors
def command(contract, record_paths, policy_paths, as_of, fmt):
    """What each package of CONTRACT (a contract file) is entitled to, used so far and left."""
    cat = catalogue()
    contracts = load_contracts([contract], Path("."))
    inputs = [RecordInput(path=Path(p)) for p in record_paths]
    moment = as_of or datetime.now(timezone.utc)
    rules = [r for r in cat.rules if r.id.startswith("input.")]
    # "used so far": records dated after the as-of day are not counted
    last_day = moment.astimezone(ZoneInfo(contracts[0].timezone)).date().isoformat()
    day = cat.kinds.day
    until = lambda streams: [(raw for raw in s if day(raw[2]) <= last_day) for s in streams]  # noqa: E731
    _, views = audit(cat, contracts, inputs, rules=rules, as_of=moment, policy_roots=policy_paths, wrap_streams=until)
    write_entitlements(cat, views[contracts[0].id], moment, sys.stdout, fmt)
    warn_plugin_problems(cat)
