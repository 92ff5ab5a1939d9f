"""Audit throughput benchmark (not a test): records/s and peak RSS, side by side with a
plain orjson parse of the same file in the same run.

    python tests/bench.py                      # 1,000,000 records over 20 contracts, two mixes
    python tests/bench.py -n 200000 -m 5 --tickets 0.4

By default two mixes run side by side: work/delivery/expense/invoice records only,
and the same with 40 % tickets (the SLA rules' share of the load).

Each phase runs in its own subprocess so its peak RSS is its own. Report the
ratios, not the absolute numbers: machines are noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

TIERS = ("foundations", "fundamentals", "premier", "expert", "strategic")
SERVICES = ("general_account_consulting", "customer_account_plan", "customer_performance_review",
            "transcript_analysis", "segmentation_management", "discretionary_operational_consulting")
# Mostly items without a count limit, so findings stay as rare as in real data.
DELIVERABLES = ("general_account_consulting",) * 18 + ("customer_account_plan", "on_site_operations_monitoring")


def write_contracts(folder: Path, m: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for c in range(m):
        tier = TIERS[c % len(TIERS)]
        (folder / f"c{c:03d}.toml").write_text(
            f'id = "C{c:03d}"\ncustomer = "Customer {c}"\npolicy = "liveperson-cso@1.0"\n'
            "term = { start = 2026-01-01, end = 2026-12-31 }\n"
            'timezone = "America/New_York"\nholidays = "US"\n'
            'overage = { rate = 240.0, currency = "USD", agreement = "SOW-1" }\n'
            f'[[packages]]\nid = "p{c}-a"\ntier = "{tier}"\nlines_of_business = ["a{c}", "b{c}"]\n'
            f'[[packages]]\nid = "p{c}-c"\ntier = "premier"\nlines_of_business = ["c{c}"]\n'
        )


def _ts(day: date, minutes: int) -> str:
    moment = datetime(day.year, day.month, day.day) + timedelta(minutes=minutes)
    return moment.isoformat() + "-05:00"


def record_lines(n: int, m: int, ticket_share: float, seed: int = 7):
    rnd = random.Random(seed)
    start = date(2026, 1, 1)
    dumps = json.dumps
    last_expense: dict[int, str] = {}
    for i in range(n):
        c = rnd.randrange(m)
        day = start + timedelta(days=i * 365 // n)
        lob = rnd.choice((f"a{c}", f"b{c}", f"c{c}"))
        base = {"contract": f"C{c:03d}"}
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


def generate(folder: Path, n: int, m: int, ticket_share: float) -> Path:
    write_contracts(folder / "contracts", m)
    path = folder / "records.jsonl"
    with path.open("w") as fh:
        for line in record_lines(n, m, ticket_share):
            fh.write(line)
            fh.write("\n")
    return path


def phase_parse(path: Path) -> dict:
    import orjson

    t0 = time.perf_counter()
    count = 0
    with path.open("rb") as fh:
        for raw in fh:
            orjson.loads(raw)
            count += 1
    return {"seconds": time.perf_counter() - t0, "records": count}


def phase_audit(path: Path) -> dict:
    from cso_policy.core.pipeline import Catalogue, audit
    from cso_policy.plugins import get_plugin_manager
    from cso_policy.inputs.workspace import RecordInput, load_contracts

    t0 = time.perf_counter()
    cat = Catalogue.from_plugins(get_plugin_manager())
    contracts = load_contracts([path.parent / "contracts"], Path("."))
    result, _ = audit(cat, contracts, [RecordInput(path=path)], as_of=None)
    return {"seconds": time.perf_counter() - t0, "records": result.audit.records, "findings": len(result.findings)}


def run_phase(phase: str, path: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--phase", phase, str(path)], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=1_000_000, help="records")
    ap.add_argument("-m", type=int, default=20, help="contracts")
    ap.add_argument("--tickets", type=float, action="append", help="share of ticket records (0..1); repeatable (default: 0 and 0.4)")
    ap.add_argument("--phase", choices=("parse", "audit"), help=argparse.SUPPRESS)
    ap.add_argument("path", nargs="?", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.phase:
        result = (phase_parse if args.phase == "parse" else phase_audit)(Path(args.path))
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return 0
    rates = []
    for share in args.tickets or [0.0, 0.4]:
        with tempfile.TemporaryDirectory() as tmp:
            path = generate(Path(tmp), args.n, args.m, share)
            size = os.path.getsize(path) / 1e6
            parse = run_phase("parse", path)
            full = run_phase("audit", path)
        rate_parse = parse["records"] / parse["seconds"]
        rate_audit = full["records"] / full["seconds"]
        rates.append((share, rate_audit))
        print(f"{args.n:,} records ({size:.0f} MB), {args.m} contracts, tickets {share:.0%}")
        print(f"  orjson parse only : {parse['seconds']:7.2f} s  {rate_parse:>10,.0f} rec/s  peak RSS {parse['peak_rss_mb']:.0f} MB")
        print(f"  cso-policy audit  : {full['seconds']:7.2f} s  {rate_audit:>10,.0f} rec/s  peak RSS {full['peak_rss_mb']:.0f} MB"
              f"  ({full['findings']:,} findings)")
        print(f"  audit time / parse time: {full['seconds'] / parse['seconds']:.2f}x")
    if len(rates) > 1:
        base = rates[0][1]
        for share, rate in rates[1:]:
            print(f"records/s with {share:.0%} tickets / without: {rate / base:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
