"""What the commands that audit share: the input options, and one run from them."""

from __future__ import annotations

import os
import sys
from datetime import datetime, timezone
from pathlib import Path

import click
from attrs import frozen

from ..core.context import ContractView
from ..core.explain import ExplainContext
from ..core.pipeline import Catalogue, audit, make_report, record_inputs
from ..domains.waivers import load_waivers
from ..inputs.workspace import RecordInput, load_contracts, load_workspace
from ..reports import Report
from ..reports.baseline import load_baseline
from . import AsOf, catalogue


def inputs_options(fn):
    """The options every command that reads a workspace shares."""
    options = [
        click.argument("workspace", required=False, type=click.Path(path_type=Path)),
        click.option("--contracts", "contract_paths", multiple=True, help="Contract file, folder or glob (repeatable)."),
        click.option("--records", "record_paths", multiple=True, help="Record file, folder or glob (repeatable)."),
        click.option("--policies", "policy_paths", multiple=True, type=click.Path(path_type=Path), help="Extra policy folder (repeatable)."),
        click.option("--as-of", type=AsOf(), help="Measure open items up to this time (ISO 8601; default now)."),
        click.option("--select", multiple=True, help="Only rules matching this id glob (repeatable)."),
        click.option("--ignore", multiple=True, help="Skip rules matching this id glob (repeatable)."),
        click.option("--waivers", "waivers_path", type=click.Path(path_type=Path), help="Waivers file (default: the workspace's)."),
        click.option("--baseline", "baseline_path", type=click.Path(path_type=Path), help="Show only findings new since this json report."),
        click.option("--quiet", "-q", is_flag=True, help="No progress on stderr."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


@frozen
class Run:
    """One audit run from the command line: its report and what explain needs."""

    report: Report
    catalogue: Catalogue
    views: dict[str, ContractView]
    context: ExplainContext


def run(workspace, contract_paths, record_paths, policy_paths, as_of, select, ignore, waivers_path, baseline_path, quiet,
        jobs=1) -> Run:
    """Load inputs, audit, apply waivers and baseline."""
    if workspace is None and not (contract_paths and record_paths):
        workspace = Path(".")
        if not (workspace / "cso-policy.toml").is_file() and not (contract_paths or record_paths):
            raise click.UsageError("give a WORKSPACE folder with a cso-policy.toml, or --contracts and --records")
    ws = load_workspace(workspace) if workspace is not None else None
    cat = catalogue(ws)
    rules = cat.select(select, ignore)
    contract_base = Path(".") if contract_paths or ws is None else ws.root
    record_base = Path(".") if record_paths or ws is None else ws.root
    contracts = load_contracts(contract_paths or (ws.contracts if ws else ()), contract_base)
    inputs = [RecordInput(path=Path(p)) for p in record_paths] if record_paths else list(ws.records if ws else ())
    roots = list(policy_paths) + list(ws.policies if ws else ())
    as_of = as_of or datetime.now(timezone.utc)  # open tickets are measured up to now by default
    options = ws.plugin_options if ws else None
    show_progress = not quiet and sys.stderr.isatty() and not os.environ.get("CI")
    waivers_file = waivers_path or (ws.waivers if ws else None)
    waivers = load_waivers(waivers_file) if waivers_file is not None else None
    baseline = load_baseline(baseline_path) if baseline_path is not None else None
    result, views = audit(
        cat, contracts, inputs, base=record_base, rules=rules, as_of=as_of, policy_roots=roots,
        plugin_options=options, wrap_streams=progress_streams if show_progress and jobs == 1 else None,
        waivers=waivers, baseline=baseline, jobs=jobs,
    )
    report = make_report(cat, result, views, as_of)
    context = ExplainContext(cat, views, lambda: record_inputs(cat, inputs, record_base, options))
    return Run(report, cat, views, context)


def progress_streams(streams: list) -> list:
    """Count files and records on stderr while they stream (a terminal only)."""
    count = [0]
    total = len(streams)

    def wrap(index, stream):
        for item in stream:
            count[0] += 1
            if count[0] % 20000 == 0:
                click.echo(f"\rauditing: file {index}/{total}, {count[0]:,} records", err=True, nl=False)
            yield item
        click.echo(f"\rauditing: file {index}/{total}, {count[0]:,} records", err=True, nl=index == total)

    return [wrap(i, s) for i, s in enumerate(streams, start=1)]
