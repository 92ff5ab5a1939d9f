"""What the commands that audit share: the input options, and one run from them."""

from __future__ import annotations

import functools
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import click
from attrs import frozen

from ..core.context import ContractView
from ..core.explain import ExplainContext
from ..core.evaluator import build_contracts
from ..core.pipeline import Catalogue, RunSetup, audit, make_report, record_inputs
from ..domains.waivers import load_waivers
from ..inputs.workspace import RecordInput, load_contracts, load_workspace
from ..plugins import plugin_output_to_stderr
from ..reports import Report
from ..reports.baseline import load_baseline
from . import AsOf, catalogue, plugin_specs
from .provenance import run_record


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
        click.option("--progress/--no-progress", "progress", default=None,
                     help="Show a progress bar on stderr (default: on a terminal, not in CI, not with --quiet)."),
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


@frozen
class AuditSpec:
    """What decides an audit run, as the command line gave it: enough for another machine that
    sees the same files at the same paths (a Dask worker) to set up the same run."""

    workspace: Path | None
    contract_paths: tuple[str, ...]
    record_paths: tuple[str, ...]
    policy_paths: tuple[Path, ...]
    as_of: datetime
    select: tuple[str, ...]
    ignore: tuple[str, ...]
    waivers_path: Path | None
    baseline_path: Path | None
    plugins: tuple[str, ...]  # --plugin
    cwd: str
    store: str | None = None  # --store: the history store's URL
    baseline_run: int | None = None  # --baseline last: the stored run compared with


@frozen
class Setup:
    """An audit run set up from an :class:`AuditSpec`: nothing read from the records yet."""

    catalogue: Catalogue
    rules: list
    contracts: list
    inputs: list[RecordInput]
    record_base: Path
    policy_roots: list[Path]
    options: dict | None
    waivers: list | None
    baseline: set[str] | None


def set_up(spec: AuditSpec) -> Setup:
    """Load the workspace, the plugins, the contracts, the waivers and the baseline."""
    ws = load_workspace(spec.workspace) if spec.workspace is not None else None
    cat = catalogue(ws, spec.plugins)
    rules = cat.select(spec.select, spec.ignore)
    contract_base = Path(".") if spec.contract_paths or ws is None else ws.root
    record_base = Path(".") if spec.record_paths or ws is None else ws.root
    contracts = load_contracts(spec.contract_paths or (ws.contracts if ws else ()), contract_base)
    inputs = ([RecordInput(path=Path(p)) for p in spec.record_paths] if spec.record_paths
              else list(ws.records if ws else ()))
    waivers_file = spec.waivers_path or (ws.waivers if ws else None)
    return Setup(
        catalogue=cat, rules=rules, contracts=contracts, inputs=inputs, record_base=record_base,
        policy_roots=list(spec.policy_paths) + list(ws.policies if ws else ()),
        options=ws.plugin_options if ws else None,
        waivers=load_waivers(waivers_file) if waivers_file is not None else None,
        baseline=_baseline(spec),
    )


def _baseline(spec: AuditSpec) -> set[str] | None:
    if spec.baseline_path is not None:
        return load_baseline(spec.baseline_path)
    if spec.baseline_run is not None:
        from ..history.store import HistoryStore

        return HistoryStore(spec.store).fingerprints(spec.baseline_run)
    return None


@functools.lru_cache(maxsize=4)
def prepare_run(spec: AuditSpec) -> RunSetup:
    """The run of *spec* as a worker process sets it up (once per process): in the folder the
    command was given in, so that every path reads as it does there."""
    if os.getcwd() != spec.cwd:
        os.chdir(spec.cwd)
    setup = set_up(spec)
    views = build_contracts(setup.contracts, setup.catalogue.registry(setup.policy_roots))
    return RunSetup(cat=setup.catalogue, views=views, rules=setup.rules, as_of=spec.as_of, options=setup.options,
                    waivers=setup.waivers, baseline=setup.baseline)


def run(workspace, contract_paths, record_paths, policy_paths, as_of, select, ignore, waivers_path, baseline_path, quiet,
        progress=None, jobs=1, scheduler=None, record=False, store=None) -> Run:
    """Load inputs, audit (in *jobs* processes, or on the Dask cluster at *scheduler*), apply
    waivers and baseline; with *record*, the report carries the run's reproducible record; with
    *store* (a URL), the run is kept in that history store (``--baseline last``: compared with
    the last run kept there)."""
    if workspace is None and not (contract_paths and record_paths):
        workspace = Path(".")
        if not (workspace / "cso-policy.toml").is_file() and not (contract_paths or record_paths):
            raise click.UsageError("give a WORKSPACE folder with a cso-policy.toml, or --contracts and --records")
    if as_of is None and workspace is not None and (workspace / "cso-policy.toml").is_file():
        as_of = load_workspace(workspace).as_of  # the workspace's own as_of, when it sets one
    baseline_run = None
    if baseline_path is not None and str(baseline_path) == LAST:
        from ..history.store import HistoryStore

        if store is None:
            raise click.UsageError("--baseline last compares with the last run kept in a history store: give --store")
        baseline_path = None
        baseline_run = HistoryStore(store).last(_workspace_key(workspace, contract_paths))
        if baseline_run is None:
            click.echo("cso-policy: no run of this workspace kept yet: every finding is new", err=True)
    spec = AuditSpec(
        workspace=workspace, contract_paths=tuple(contract_paths), record_paths=tuple(record_paths),
        policy_paths=tuple(policy_paths),
        as_of=as_of or datetime.now(timezone.utc),  # open tickets are measured up to now by default
        select=tuple(select), ignore=tuple(ignore), waivers_path=waivers_path, baseline_path=baseline_path,
        plugins=plugin_specs(), cwd=os.getcwd(), store=store, baseline_run=baseline_run,
    )
    if progress is None:
        progress = not quiet and sys.stderr.isatty() and not os.environ.get("CI")
    return run_spec(spec, progress=progress, jobs=jobs, scheduler=scheduler, record=record or store is not None,
                    keep=store is not None)


LAST = "last"


def _workspace_key(workspace, contract_paths) -> str:
    from ..history.store import workspace_key

    contracts = [] if workspace is not None else load_contracts(contract_paths, Path("."))
    return workspace_key(workspace, [c.id for c in contracts])


def run_spec(spec: AuditSpec, *, progress: bool = False, jobs=1, scheduler=None, record: bool = False,
             keep: bool = False) -> Run:
    """The audit of *spec* (see :func:`run`); with *keep*, kept in the history store ``spec.store``.
    Until it returns, what plugins write to stdout goes to stderr: stdout is for the report."""
    with plugin_output_to_stderr():
        return _run_spec(spec, progress=progress, jobs=jobs, scheduler=scheduler, record=record, keep=keep)


def _run_spec(spec: AuditSpec, *, progress: bool, jobs, scheduler, record: bool, keep: bool) -> Run:
    started = time.perf_counter()
    setup = set_up(spec)
    cat = setup.catalogue
    bar = ProgressBar() if progress else None
    result, views = audit(
        cat, setup.contracts, setup.inputs, base=setup.record_base, rules=setup.rules, as_of=spec.as_of,
        policy_roots=setup.policy_roots, plugin_options=setup.options,
        progress=bar,
        waivers=setup.waivers, baseline=setup.baseline, jobs=jobs,
        cluster=(scheduler, functools.partial(prepare_run, spec)) if scheduler is not None else None,
    )
    if bar is not None:
        bar.close()
    report = make_report(cat, result, views, spec.as_of)
    report.elapsed = time.perf_counter() - started
    if record:
        report.run = run_record(spec, setup, views, result.audit.summary.get("inputs", []))
    if keep:
        from ..history.store import HistoryStore, shown, workspace_key

        store = HistoryStore(spec.store)
        key = workspace_key(spec.workspace, views)
        store.runs(key)  # a damaged store is said before this run is added to it, not after
        run_id = store.add(key, report, report.run, report.summary())
        report.history = store.runs(key)
        store.close()
        click.echo(f"cso-policy: kept as run {run_id} in {shown(spec.store)}", err=True)
    context = ExplainContext(cat, views, lambda: record_inputs(cat, setup.inputs, setup.record_base, setup.options))
    return Run(report, cat, views, context)


class ProgressBar:
    """A progress bar on stderr (tqdm): the bytes of the record files read, with the percentage,
    rate and time left when their size is known, and the records read."""

    def __init__(self):
        self.bar = None
        self.records = 0

    def start(self, total_bytes: int | None) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=total_bytes or None, unit="B", unit_scale=True, unit_divisor=1024, desc="reading records",
                        file=sys.stderr, dynamic_ncols=True, mininterval=0.25, leave=True)

    def __call__(self, nbytes: int, records: int) -> None:
        if self.bar is None:
            self.start(None)
        self.records += records
        self.bar.set_postfix_str(f"{self.records:,} records", refresh=False)
        self.bar.update(nbytes)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
