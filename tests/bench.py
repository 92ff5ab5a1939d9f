"""Audit throughput benchmark (not a test): the real ``cso-policy audit`` command line, report
writing included, timed beside a plain orjson parse of the same file in the same run.

    python tests/bench.py                                   # everything (takes a while)
    python tests/bench.py --mix ticket-heavy --format json --jobs 1
    python tests/bench.py --mix compliant --format json     # jobs 1 and 2 side by side
    python tests/bench.py -n 200000 -m 5 --tickets-n 20000 --mix compliant --mix ticket-heavy

Mixes (``--mix``, repeatable; default all):

  compliant     ``-n`` records (default 1,000,000) over ``-m`` contracts (default 20): work,
                deliveries, expenses and invoice lines, few findings
  tickets40     the same with 40 % support tickets (the SLA rules' share of the load)
  ticket-heavy  ``--tickets-n`` support tickets (default 100,000) over 600 contracts on
                enhanced-SLA tiers, about 6 updates each: about 17 % breach a clock (late
                first response or a too-long gap between updates), 10 % still open and 3 %
                never answered, measured up to ``--as-of``; tens of thousands of findings
  findings500k  ``-n`` records where 46 % are expenses without ``approved_at`` (one
                ``billing.expense_unapproved`` each): about 500,000 findings at 1M records

Each mix's data is generated once into a temporary folder and reused for every report format
(``--format``, repeatable; default all seven) and every ``--jobs`` value (repeatable; default 1
and 2, passed through as ``cso-policy audit --jobs N``; while the command line has no
``--jobs`` option it is passed only when given here, and the default is one process).

Every phase runs in its own subprocess so its peak RSS is its own: first the orjson parse of
the mix's file, then per format and jobs value ``cso_policy.cli.main(["audit", ...,
"--as-of", AS_OF, "--format", FMT, "--output", OUT, "-q", "--fail-on", "never"])``. Printed:

  per mix      the orjson parse: seconds, records/s, peak RSS
  per format   wall seconds of the audit (the call of main, imports excluded), records/s,
               audit time / parse time, findings/s, peak RSS (max of the audit process and
               of its largest child process, so ``--jobs`` workers count), findings
               (``summary.findings`` of json, SARIF results, csv rows; the text, junit,
               markdown and html lines show the json run's count of the same mix)
  per mix      records/s of ``--jobs N`` / ``--jobs 1`` (json format)
  at the end   a targets block, one PASS/MISS line per target with the measured figure

Exit status 1 when an audit run failed (its line says FAILED with the error). Compare ratios
measured in one run, not absolute figures across machines: machines are noisy.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from attrs import define

TIERS = ("foundations", "fundamentals", "premier", "expert", "strategic")
ENHANCED_TIERS = ("premier", "expert", "strategic")  # the tiers whose tickets are measured
SERVICES = ("general_account_consulting", "customer_account_plan", "customer_performance_review",
            "transcript_analysis", "segmentation_management", "discretionary_operational_consulting")
# Mostly items without a count limit, so findings stay as rare as in real data.
DELIVERABLES = ("general_account_consulting",) * 18 + ("customer_account_plan", "on_site_operations_monitoring")
FORMATS = ("text", "json", "sarif", "junit", "csv", "markdown", "html")
MIXES = ("compliant", "tickets40", "ticket-heavy", "findings500k")
AS_OF = "2027-01-01T00:00:00Z"  # the end of the generated contracts' term
TICKET_HEAVY_CONTRACTS = 600
UNAPPROVED_SHARE = 0.463  # findings500k: share of unapproved expenses, tuned to ~500k findings at 1M

# Targets (printed at the end, never asserted by a test).
TARGET_TICKETS_VS_PARSE = 8.0
TARGET_COMPLIANT_VS_PARSE = 7.0
TARGET_JOBS2_SPEEDUP = 1.7
TARGET_PEAK_RSS_MB = 300.0

# ------------------------------------------------------------ data


def write_contracts(folder: Path, m: int, tiers: tuple[str, ...] = TIERS) -> None:
    """``m`` contracts C000.. for 2026, each with a package of tier ``tiers[c % len]`` for
    lines of business a<c> and b<c>, and a premier package for c<c>."""
    folder.mkdir(parents=True, exist_ok=True)
    for c in range(m):
        tier = tiers[c % len(tiers)]
        (folder / f"c{c:03d}.toml").write_text(
            f'id = "C{c:03d}"\ncustomer = "Customer {c}"\npolicy = "liveperson-cso@1.0"\n'
            "term = { start = 2026-01-01, end = 2026-12-31 }\n"
            'timezone = "America/New_York"\nholidays = "US"\n'
            'overage = { rate = 240.0, currency = "USD", agreement = "SOW-1" }\n'
            f'[[packages]]\nid = "p{c}-a"\ntier = "{tier}"\nlines_of_business = ["a{c}", "b{c}"]\n'
            f'[[packages]]\nid = "p{c}-c"\ntier = "premier"\nlines_of_business = ["c{c}"]\n'
        )


def _ts(day: date, minutes: int) -> str:
    """``minutes`` after local midnight of ``day`` (any number, past midnight too), at -05:00."""
    moment = datetime(day.year, day.month, day.day) + timedelta(minutes=minutes)
    return moment.isoformat() + "-05:00"


def record_lines(n: int, m: int, ticket_share: float, unapproved_share: float = 0.0, seed: int = 7):
    """JSON lines of the 1M mixes: ``ticket_share`` mostly compliant tickets, then work,
    deliveries, expenses and invoice lines; ``unapproved_share`` of all records are expenses
    without ``approved_at`` (each a billing.expense_unapproved finding)."""
    rnd = random.Random(seed)
    start = date(2026, 1, 1)
    dumps = json.dumps
    last_expense: dict[int, str] = {}
    for i in range(n):
        c = rnd.randrange(m)
        day = start + timedelta(days=i * 365 // n)
        lob = rnd.choice((f"a{c}", f"b{c}", f"c{c}"))
        base = {"contract": f"C{c:03d}"}
        if unapproved_share and rnd.random() < unapproved_share:
            yield dumps({"kind": "expense", "id": f"e{i}", **base, "date": day.isoformat(), "lob": lob,
                         "amount": round(rnd.uniform(20, 900), 2), "currency": "USD", "approved_at": None})
            continue
        roll = rnd.random()
        if roll < ticket_share:
            # mostly compliant, as real support data is: answered in 5-25 min, updated every
            # 50 min, resolved within 4 h; about 2 % answered late
            opened = rnd.randrange(0, 20 * 60)
            first = opened + (rnd.randrange(5, 25) if rnd.random() > 0.02 else 95)
            updates = [_ts(day, first + 50 * k) for k in range(1, rnd.randrange(2, 5))]
            resolved = first + 50 * len(updates) + 30
            rec = {"kind": "ticket", "id": f"t{i}", **base, "lob": lob, "severity": rnd.choice(("P1", "P2", "P3")),
                   "opened_at": _ts(day, opened), "first_response_at": _ts(day, first), "updates": updates,
                   "resolved_at": _ts(day, resolved), "is_bug": rnd.random() < 0.3,
                   "rca_delivered_at": _ts(day + timedelta(days=1), 600), "channel": rnd.choice(("web", "chat"))}
        else:
            roll = (roll - ticket_share) / (1 - ticket_share)
            if roll < 0.55:
                rec = {"kind": "work", "id": f"w{i}", **base, "date": day.isoformat(), "lob": lob,
                       "hours": rnd.choice((0.5, 1, 1.5, 2, 3)), "service": rnd.choice(SERVICES)}
            elif roll < 0.75:
                rec = {"kind": "delivery", "id": f"d{i}", **base, "date": day.isoformat(), "lob": lob,
                       "deliverable": rnd.choice(DELIVERABLES), "international": rnd.random() < 0.01}
            elif roll < 0.88:
                rec = {"kind": "expense", "id": f"e{i}", **base, "date": day.isoformat(), "lob": lob,
                       "amount": round(rnd.uniform(20, 900), 2), "currency": "USD",
                       "approved_at": _ts(day - timedelta(days=1), 600) if rnd.random() < 0.97 else None}
                last_expense[c] = rec["id"]
            elif c in last_expense and rnd.random() < 0.9:
                # each expense billed once (billing one twice is billing.duplicate_charge)
                q = (day.month - 1) // 3 + 1
                rec = {"kind": "invoice_line", "id": f"i{i}", **base, "lob": lob, "period": f"2026-Q{q}",
                       "item": "expense", "quantity": 1.0, "rate": 100.0, "amount": 100.0, "currency": "USD",
                       "ref": last_expense.pop(c)}
            else:
                q = (day.month - 1) // 3 + 1
                rec = {"kind": "invoice_line", "id": f"i{i}", **base, "lob": lob, "period": f"2026-Q{q}",
                       "item": "overage_hours", "quantity": 1.0, "rate": 240.0, "amount": 240.0, "currency": "USD"}
        yield dumps(rec)


# The loosest Table 8 target of any enhanced tier, per severity, in minutes: going past it
# breaches the clock whatever the tier. (The tightest, strategic/expert P1 - response 30 min,
# update 1 h, resolution 6 h - is what a compliant ticket below meets.)
LOOSEST_RESPONSE = {"P1": 60, "P2": 3 * 60, "P3": 2 * 24 * 60}
LOOSEST_UPDATE = {"P1": 2 * 60, "P2": 12 * 60, "P3": 3 * 24 * 60}


def ticket_lines(n: int, m: int, seed: int = 11):
    """JSON lines of the ticket-heavy mix: ``n`` tickets over ``m`` contracts, 5-7 updates
    each. 3 % never answered (no response, no update, open), 10 % open, 8.5 % answered late,
    8.5 % with one gap between updates past the target; the rest meet every clock."""
    rnd = random.Random(seed)
    start = date(2026, 1, 1)
    dumps = json.dumps
    for i in range(n):
        c = rnd.randrange(m)
        day = start + timedelta(days=i * 355 // n)  # a week's margin before the term's end
        severity = rnd.choice(("P1", "P2", "P3"))
        opened = rnd.randrange(0, 20 * 60)
        is_bug = rnd.random() < 0.3
        rec = {"kind": "ticket", "id": f"t{i}", "contract": f"C{c:03d}", "lob": rnd.choice((f"a{c}", f"b{c}", f"c{c}")),
               "severity": severity, "opened_at": _ts(day, opened), "is_bug": is_bug,
               "channel": rnd.choice(("web", "chat"))}
        roll = rnd.random()
        if roll < 0.03:  # never answered: measured (and breached) up to --as-of
            rec.update(first_response_at=None, updates=[], resolved_at=None, rca_delivered_at=None)
            yield dumps(rec)
            continue
        late = 0.13 <= roll < 0.215
        long_gap = 0.215 <= roll < 0.30
        first = opened + (LOOSEST_RESPONSE[severity] + rnd.randrange(1, 120) if late else rnd.randrange(5, 25))
        gaps = [rnd.randrange(30, 41) for _ in range(rnd.randrange(5, 8))]
        if long_gap:
            gaps[rnd.randrange(len(gaps))] = LOOSEST_UPDATE[severity] + rnd.randrange(1, 120)
        moments, at = [], first
        for gap in gaps:
            at += gap
            moments.append(at)
        rec["first_response_at"] = _ts(day, first)
        rec["updates"] = [_ts(day, t) for t in moments]
        if roll < 0.13:  # still open: updates stopped; measured up to --as-of
            rec.update(resolved_at=None, rca_delivered_at=None)
        else:
            resolved = moments[-1] + 30
            rec["resolved_at"] = _ts(day, resolved)
            rec["rca_delivered_at"] = _ts(day, resolved + 6 * 60)  # every P1/P2 resolution needs one
        yield dumps(rec)


@define
class Mix:
    """One generated data set: its contracts folder and JSON Lines file."""

    name: str
    records: int
    contracts: int
    contracts_dir: Path
    records_file: Path

    @property
    def megabytes(self) -> float:
        return self.records_file.stat().st_size / 1e6


def _write_lines(path: Path, lines) -> None:
    with path.open("w") as fh:
        for line in lines:
            fh.write(line)
            fh.write("\n")


def generate(name: str, folder: Path, n: int, m: int, tickets_n: int) -> Mix:
    """Contracts and records of mix ``name`` in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    contracts_dir, records_file = folder / "contracts", folder / "records.jsonl"
    if name == "ticket-heavy":
        n, m = tickets_n, TICKET_HEAVY_CONTRACTS
        write_contracts(contracts_dir, m, ENHANCED_TIERS)
        _write_lines(records_file, ticket_lines(n, m))
    else:
        write_contracts(contracts_dir, m)
        share = 0.4 if name == "tickets40" else 0.0
        unapproved = UNAPPROVED_SHARE if name == "findings500k" else 0.0
        _write_lines(records_file, record_lines(n, m, share, unapproved))
    return Mix(name, n, m, contracts_dir, records_file)


# ------------------------------------------------------------ phases (each in its own subprocess)


def _peak_rss_mb() -> dict:
    """Peak RSS of this process and of its largest waited-for child (e.g. a --jobs worker)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"peak_rss_mb": max(own, children), "own_rss_mb": own, "children_rss_mb": children}


def phase_parse(spec: dict) -> dict:
    """orjson-parse every line of the records file."""
    import orjson

    t0 = time.perf_counter()
    count = 0
    with open(spec["records"], "rb") as fh:
        for raw in fh:
            orjson.loads(raw)
            count += 1
    return {"seconds": time.perf_counter() - t0, "records": count}


def audit_argv(spec: dict) -> list[str]:
    """The ``cso-policy`` arguments of one audit run."""
    argv = ["audit", "--contracts", spec["contracts"], "--records", spec["records"], "--as-of", spec["as_of"],
            "--format", spec["format"], "--output", spec["output"], "-q", "--fail-on", "never"]
    if spec.get("jobs") is not None:
        argv += ["--jobs", str(spec["jobs"])]
    if spec.get("scheduler") is not None:
        argv += ["--scheduler", spec["scheduler"]]
    return argv


def phase_audit(spec: dict) -> dict:
    """The real command line, in process: load, audit, write the report. Exit 0/1 is success."""
    import click

    from cso_policy.cli import main as cli_main

    t0 = time.perf_counter()
    try:
        cli_main(audit_argv(spec), prog_name="cso-policy", standalone_mode=False)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    except click.ClickException as exc:  # standalone_mode=False lets usage errors through
        exc.show()
        code = exc.exit_code
    return {"seconds": time.perf_counter() - t0, "exit_code": code}


PHASES = {"parse": phase_parse, "audit": phase_audit}


@define
class Outcome:
    """What one phase subprocess reported, or why it failed."""

    seconds: float = 0.0
    records: int = 0
    peak_rss_mb: float = 0.0
    exit_code: int = 0
    error: str | None = None
    findings: int | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def run_phase(phase: str, spec: dict) -> Outcome:
    """Run one phase in a fresh interpreter; its stdout is one JSON object."""
    done = subprocess.run([sys.executable, __file__, "--phase", phase, json.dumps(spec)],
                          capture_output=True, text=True)
    try:
        result = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        said = done.stderr.strip()[-2000:] or done.stdout[-2000:]
        return Outcome(error=f"phase {phase} exited {done.returncode}: {said}")
    outcome = Outcome(seconds=result["seconds"], records=result.get("records", 0), peak_rss_mb=result["peak_rss_mb"],
                      exit_code=result.get("exit_code", 0), findings=result.get("findings"))
    if done.returncode != 0 or outcome.exit_code not in (0, 1):
        outcome.error = f"exit code {outcome.exit_code}: {done.stderr.strip()[-2000:]}"
    return outcome


# ------------------------------------------------------------ counting findings


def count_findings(fmt: str, path: Path) -> int | None:
    """Findings in a report: ``summary.findings`` of json, SARIF results, csv rows; None for
    the formats meant for people."""
    if fmt == "json":
        import orjson

        return orjson.loads(path.read_bytes())["summary"]["findings"]
    if fmt == "sarif":
        return sum(len(run.get("results", ())) for run in json.loads(path.read_text())["runs"])
    if fmt == "csv":
        import csv

        with path.open(newline="") as fh:
            return sum(1 for _ in csv.reader(fh)) - 1
    return None


# ------------------------------------------------------------ the run


def cli_has_jobs() -> bool:
    """Whether ``cso-policy audit --help`` lists ``--jobs``."""
    done = subprocess.run([sys.executable, "-c", "from cso_policy.cli import main; main(['audit', '--help'])"],
                          capture_output=True, text=True)
    return "--jobs" in done.stdout


@define
class Row:
    """One audit run: mix, format, jobs and what it measured."""

    mix: Mix
    fmt: str
    jobs: int
    audit: Outcome
    parse: Outcome

    @property
    def records_per_second(self) -> float:
        return self.mix.records / self.audit.seconds

    @property
    def vs_parse(self) -> float:
        return self.audit.seconds / self.parse.seconds


def _fmt_int(value: int | float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def print_row(row: Row) -> None:
    a = row.audit
    label = f"  {row.fmt:<8} jobs {row.jobs}" if row.jobs else f"  {row.fmt:<8} dask  "
    if not a.ok:
        print(f"{label}: FAILED ({a.error})")
        return
    per_second = None if a.findings is None else a.findings / a.seconds
    print(f"{label}: {a.seconds:7.2f} s  {row.records_per_second:>9,.0f} rec/s  {row.vs_parse:5.2f}x parse  "
          f"{_fmt_int(per_second):>9} findings/s  peak RSS {a.peak_rss_mb:4.0f} MB  ({_fmt_int(a.findings)} findings)")


def run_mix(mix: Mix, formats: list[str], jobs_values: list[int], pass_jobs: bool, out_dir: Path,
            scheduler: str | None = None) -> list[Row]:
    """Parse once, then audit per format and jobs value (and, with *scheduler*, once on that Dask
    cluster with the json format: a row of jobs 0); print a line each."""
    spec = {"contracts": str(mix.contracts_dir), "records": str(mix.records_file), "as_of": AS_OF}
    parse = run_phase("parse", spec)
    print(f"{mix.name}: {mix.records:,} records ({mix.megabytes:.0f} MB), {mix.contracts} contracts, --as-of {AS_OF}")
    if not parse.ok:
        print(f"  orjson parse: FAILED ({parse.error})")
        return []
    print(f"  orjson parse  : {parse.seconds:7.2f} s  {parse.records / parse.seconds:>9,.0f} rec/s  "
          f"peak RSS {parse.peak_rss_mb:4.0f} MB")
    rows: list[Row] = []
    json_findings = None
    # json first: its summary gives the findings count shown for the other formats
    for fmt in sorted(formats, key=lambda f: f != "json"):
        for jobs in jobs_values:
            output = out_dir / f"{mix.name}-{jobs}.{fmt}"
            outcome = run_phase("audit", {**spec, "format": fmt, "output": str(output),
                                          "jobs": jobs if pass_jobs else None})
            if outcome.ok:
                if fmt == "json" and json_findings is None:
                    json_findings = outcome.findings
                if outcome.findings is None:
                    outcome.findings = json_findings
            output.unlink(missing_ok=True)
            row = Row(mix, fmt, jobs, outcome, parse)
            print_row(row)
            rows.append(row)
    if scheduler is not None and "json" in formats:
        output = out_dir / f"{mix.name}-dask.json"
        outcome = run_phase("audit", {**spec, "format": "json", "output": str(output), "scheduler": scheduler})
        output.unlink(missing_ok=True)
        row = Row(mix, "json", 0, outcome, parse)
        print_row(row)
        rows.append(row)
    by_jobs = {r.jobs: r for r in rows if r.fmt == "json" and r.audit.ok}
    if 1 in by_jobs:
        for jobs, row in sorted(by_jobs.items()):
            if jobs != 1:
                ratio = row.records_per_second / by_jobs[1].records_per_second
                print(f"  json records/s, {f'jobs {jobs}' if jobs else 'dask'} / jobs 1: {ratio:.2f}")
    return rows


def _find(rows: list[Row], mix: str, fmt: str | None = None, jobs: int | None = None) -> Row | None:
    for r in rows:
        if r.mix.name == mix and r.audit.ok and (fmt is None or r.fmt == fmt) and (jobs is None or r.jobs == jobs):
            return r
    return None


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def print_targets(rows: list[Row]) -> None:
    """One PASS/MISS line per target, with the figure measured (SKIP without a successful run)."""
    print("targets:")
    heavy = _find(rows, "ticket-heavy", "json", 1)
    if heavy:
        print(f"  {_verdict(heavy.vs_parse <= TARGET_TICKETS_VS_PARSE)}  ticket-heavy, jobs 1, json: audit "
              f"{heavy.vs_parse:.2f}x orjson parse (target <= {TARGET_TICKETS_VS_PARSE:g}x; "
              f"{heavy.mix.records:,} tickets, {_fmt_int(heavy.audit.findings)} findings)")
    else:
        print("  SKIP  ticket-heavy, jobs 1, json: audit <= 8x parse (no successful run)")
    compliant = _find(rows, "compliant", "json", 1) or _find(rows, "compliant", None, 1)
    if compliant:
        verdict = _verdict(compliant.vs_parse <= TARGET_COMPLIANT_VS_PARSE)
        print(f"  {verdict}  compliant, jobs 1, {compliant.fmt}: audit "
              f"{compliant.vs_parse:.2f}x orjson parse (target <= {TARGET_COMPLIANT_VS_PARSE:g}x; "
              f"{compliant.mix.records:,} records)")
    else:
        print("  SKIP  compliant, jobs 1: audit <= 7x parse (no successful run)")
    one, two = _find(rows, "compliant", "json", 1), _find(rows, "compliant", "json", 2)
    if one and two:
        speedup = two.records_per_second / one.records_per_second
        print(f"  {_verdict(speedup >= TARGET_JOBS2_SPEEDUP)}  compliant, json: records/s jobs 2 / jobs 1 "
              f"{speedup:.2f} (target >= {TARGET_JOBS2_SPEEDUP:g}; {one.mix.records:,} records)")
    else:
        print("  SKIP  compliant, json: records/s jobs 2 >= 1.7x jobs 1 (needs --jobs 1 and --jobs 2)")
    heavy_findings = [r for r in rows if r.mix.name == "findings500k" and r.jobs]  # dask workers: not measured
    if heavy_findings:
        failed = [r for r in heavy_findings if not r.audit.ok]
        worst = max((r for r in heavy_findings if r.audit.ok), key=lambda r: r.audit.peak_rss_mb, default=None)
        per_format = ", ".join(f"{r.fmt}/j{r.jobs} {r.audit.peak_rss_mb:.0f}" for r in heavy_findings if r.audit.ok)
        ok = worst is not None and not failed and worst.audit.peak_rss_mb < TARGET_PEAK_RSS_MB
        figure = f"{worst.audit.peak_rss_mb:.0f} MB ({worst.fmt}, jobs {worst.jobs})" if worst else "n/a"
        findings = next((r.audit.findings for r in heavy_findings if r.audit.findings is not None), None)
        print(f"  {_verdict(ok)}  findings500k, every format: peak RSS {figure} (target < {TARGET_PEAK_RSS_MB:g} MB; "
              f"{heavy_findings[0].mix.records:,} records, {_fmt_int(findings)} findings"
              f"{'; ' + str(len(failed)) + ' run(s) failed' if failed else ''}) [MB: {per_format}]")
    else:
        print("  SKIP  findings500k, every format: peak RSS < 300 MB (no successful run)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=1_000_000,
                    help="records of the compliant, tickets40 and findings500k mixes")
    ap.add_argument("-m", type=int, default=20, help="contracts of those mixes")
    ap.add_argument("--tickets-n", type=int, default=100_000, help="tickets of the ticket-heavy mix")
    ap.add_argument("--mix", action="append", choices=MIXES, help="mix to run (repeatable; default all)")
    ap.add_argument("--format", action="append", choices=FORMATS, help="report format (repeatable; default all)")
    ap.add_argument("--jobs", type=int, action="append",
                    help="cso-policy audit --jobs N (repeatable; default 1 and 2 if the CLI has --jobs)")
    ap.add_argument("--dask", action="store_true",
                    help="also audit each mix (json) on a Dask LocalCluster of 2 worker processes started here "
                         "(the workers' memory is not in the peak RSS)")
    ap.add_argument("--phase", choices=tuple(PHASES), help=argparse.SUPPRESS)
    ap.add_argument("spec", nargs="?", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.phase:
        spec = json.loads(args.spec)
        result = {**PHASES[args.phase](spec), **_peak_rss_mb()}
        if args.phase == "audit" and result["exit_code"] in (0, 1):
            # counted after the peak RSS is taken, and here rather than in the parent: a child's
            # ru_maxrss starts from its parent's RSS at fork, so the parent must stay small
            result["findings"] = count_findings(spec["format"], Path(spec["output"]))
        print(json.dumps(result))
        return 0

    mixes = list(dict.fromkeys(args.mix or MIXES))
    formats = list(dict.fromkeys(args.format or FORMATS))
    has_jobs = cli_has_jobs()
    if args.jobs:
        jobs_values, pass_jobs = list(dict.fromkeys(args.jobs)), True
    elif has_jobs:
        jobs_values, pass_jobs = [1, 2], True
    else:
        jobs_values, pass_jobs = [1], False
    if has_jobs:
        jobs_note = ""
    else:
        jobs_note = " (the CLI has no --jobs yet: " + ("passing it anyway)" if pass_jobs else "one process)")
    print(f"cso-policy audit: --as-of {AS_OF}, --fail-on never, report written with --output; "
          f"jobs {', '.join(map(str, jobs_values))}{jobs_note}")
    print("peak RSS = max(ru_maxrss of the audit process, ru_maxrss of its children), so --jobs workers count")
    rows: list[Row] = []
    with contextlib.ExitStack() as stack:
        scheduler = None
        if args.dask:
            from distributed import LocalCluster

            cluster = stack.enter_context(LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                                       dashboard_address=None))
            scheduler = cluster.scheduler_address
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="cso-bench-"))
        for name in mixes:
            folder = Path(tmp) / name
            t0 = time.perf_counter()
            mix = generate(name, folder, args.n, args.m, args.tickets_n)
            print(f"(generated {name} in {time.perf_counter() - t0:.1f} s)")
            rows += run_mix(mix, formats, jobs_values, pass_jobs, Path(tmp), scheduler)
            shutil.rmtree(folder, ignore_errors=True)  # the next mix's data takes its place
    print_targets(rows)
    expected = len(mixes) * len(formats) * len(jobs_values) + (len(mixes) if args.dask and "json" in formats else 0)
    return 1 if any(not r.audit.ok for r in rows) or len(rows) < expected else 0


if __name__ == "__main__":
    sys.exit(main())
