"""``--jobs N`` and ``--scheduler``: the contracts shared out to processes (or to the workers of a
Dask cluster) give the report a single process gives, byte for byte, with the same exit code,
waivers and baseline, on random workspaces: several contracts on different tiers; work, tickets,
expenses, deliveries and invoice lines; lines that are broken, records read twice or in
conflict, records of a contract no file defines; all split over several files."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cso_policy.cli import main
from cso_policy.core.shares import Shares
from cso_policy.testing import Workspace

AS_OF = "2027-01-01T00:00:00Z"
TIERS = ("foundations", "premier", "expert", "strategic")
SERVICES = ("general_account_consulting", "customer_account_plan", "transcript_analysis")
SETTINGS = settings(max_examples=25, derandomize=True, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _ts(day: int, minutes: int) -> str:
    month, dom = 1 + day // 28 % 12, 1 + day % 28
    return f"2026-{month:02d}-{dom:02d}T{9 + minutes // 60 % 10:02d}:{minutes % 60:02d}:00-05:00"


def record(rnd: random.Random, number: int, contracts: list[str]) -> dict | str:
    """One record line of a random kind; now and then a broken or a foreign one."""
    contract = rnd.choice(contracts + ["ZZ-UNKNOWN"] if rnd.random() < 0.05 else contracts)
    lob = f"lob-{contract}" if rnd.random() > 0.03 else "nowhere"
    day = rnd.randrange(0, 330)
    roll = rnd.random()
    if roll < 0.03:
        return '{"kind": "work", "id": "broken' + str(number)  # not JSON
    if roll < 0.35:
        return {"kind": "work", "id": f"w{number}", "contract": contract, "lob": lob, "date": f"2026-{1 + day // 28 % 12:02d}-{1 + day % 28:02d}",
                "hours": rnd.choice((0.5, 2, 8, 30)), "service": rnd.choice(SERVICES)}
    if roll < 0.6:
        opened = rnd.randrange(0, 300)
        rec = {"kind": "ticket", "id": f"t{number}", "contract": contract, "lob": lob,
               "severity": rnd.choice(("P1", "P2", "P3")), "opened_at": _ts(day, opened), "channel": "web",
               "is_bug": rnd.random() < 0.3}
        if rnd.random() < 0.9:
            rec["first_response_at"] = _ts(day, opened + rnd.choice((10, 50, 200)))
        if rnd.random() < 0.8:
            rec["resolved_at"] = _ts(day + rnd.choice((0, 1, 9)), opened + 300)
        return rec
    if roll < 0.75:
        return {"kind": "expense", "id": f"e{number}", "contract": contract, "lob": lob,
                "date": f"2026-{1 + day // 28 % 12:02d}-{1 + day % 28:02d}", "amount": rnd.choice((40.0, 900.5)),
                "currency": "USD", **({"approved_at": _ts(max(day - 1, 0), 0)} if rnd.random() < 0.8 else {})}
    if roll < 0.88:
        return {"kind": "delivery", "id": f"d{number}", "contract": contract, "lob": lob,
                "date": f"2026-{1 + day // 28 % 12:02d}-{1 + day % 28:02d}",
                "deliverable": rnd.choice(("customer_account_plan", "general_account_consulting")),
                "international": False}
    return {"kind": "invoice_line", "id": f"i{number}", "contract": contract, "lob": lob,
            "period": f"2026-Q{1 + day // 84 % 4}", "item": "overage_hours", "quantity": 1.0, "rate": 240.0,
            "amount": 240.0, "currency": "USD"}


def build(root: Path, seed: int, contracts: int, records: int, files: int) -> Workspace:
    rnd = random.Random(seed)
    ws = Workspace(root)
    ids = [f"C-{seed % 7}{n:02d}" for n in range(contracts)]
    for n, cid in enumerate(ids):
        ws.contract(id=cid, tier=TIERS[(seed + n) % len(TIERS)], lobs=[f"lob-{cid}"])
    lines: list = [record(rnd, n, ids) for n in range(records)]
    lines += [line for line in rnd.sample(lines, k=min(len(lines), records // 10))]  # overlapping exports
    for line in rnd.sample(lines, k=min(len(lines), 2)):  # the same identity with other content
        if isinstance(line, dict) and "hours" in line:
            lines.append({**line, "hours": line["hours"] + 1})
    rnd.shuffle(lines)
    for part in range(files):
        ws.records(lines[part::files], name=f"export-{part}.jsonl")
    waived = next((line for line in lines if isinstance(line, dict) and line["kind"] == "expense"), None)
    waivers = [f'[[waiver]]\nrule = "billing.*"\ncontract = "{ids[0]}"\nlob = "lob-{ids[0]}"\n'
               'reason = "agreed"\napproved_by = "cfo"\nexpires = 2030-01-01\n']
    if waived is not None:
        waivers.append(f'[[waiver]]\nrule = "*"\ncontract = "{waived["contract"]}"\nrecord = "{waived["id"]}"\n'
                       'reason = "one-off"\napproved_by = "cfo"\nexpires = 2026-02-01\n')
    (root / "waivers.toml").write_text("\n".join(waivers), encoding="utf-8")
    return ws


def audit_args(root: Path, *extra: str) -> list[str]:
    return ["audit", "--contracts", str(root / "contracts"), "--records", str(root / "records"), "--as-of", AS_OF,
            "--format", "json", "-q", *extra]


def invoke(args: list[str]):
    result = CliRunner().invoke(main, args)
    assert result.exit_code in (0, 1), result.output
    return result


@SETTINGS
@given(seed=st.integers(0, 10**6), contracts=st.integers(1, 5), records=st.integers(0, 120),
       files=st.integers(1, 3), jobs=st.integers(2, 3))
def test_jobs_give_the_report_of_one_process_byte_for_byte(tmp_path_factory, seed, contracts, records, files, jobs):
    root = tmp_path_factory.mktemp("ws")
    build(root, seed, contracts, records, files)
    one = invoke(audit_args(root, "--jobs", "1", "--waivers", str(root / "waivers.toml")))
    shared = invoke(audit_args(root, "--jobs", str(jobs), "--waivers", str(root / "waivers.toml")))
    assert shared.stdout_bytes == one.stdout_bytes
    assert shared.exit_code == one.exit_code
    # a baseline of an earlier run leaves out the same findings either way
    baseline = root / "baseline.json"
    baseline.write_bytes(one.stdout_bytes)
    build(root, seed + 1, contracts, records // 2, 1)  # more records: some findings are new
    one = invoke(audit_args(root, "--jobs", "1", "--baseline", str(baseline), "--fail-on", "warning"))
    shared = invoke(audit_args(root, "--jobs", str(jobs), "--baseline", str(baseline), "--fail-on", "warning"))
    assert (shared.exit_code, shared.stdout_bytes) == (one.exit_code, one.stdout_bytes)


def test_a_share_of_the_work_is_really_done_by_each_process(tmp_path):
    # 4 contracts dealt to 2 processes in id order: each gets 2; every finding still comes back
    build(tmp_path, 5, 4, 200, 2)
    shares = Shares.deal([f"C-5{n:02d}" for n in range(4)], 2)
    assert [shares.of(f"C-5{n:02d}") for n in range(4)] == [0, 1, 0, 1]
    report = json.loads(invoke(audit_args(tmp_path, "--jobs", "2")).stdout)
    assert {f["contract"] for f in report["findings"]} >= {f"C-5{n:02d}" for n in range(4)}
    inputs = report["summary"]["inputs"]
    assert len(inputs) == 2 and sum(i["read"] for i in inputs) >= 200  # 200 records, plus repeats
    for item in inputs:  # every line read is accounted for, across the processes
        assert item["read"] == sum(item[k] for k in ("counted", "duplicate", "conflicting", "invalid", "unresolved",
                                                     "incomplete", "left_out"))


def test_a_line_is_routed_by_the_contract_it_names():
    shares = Shares.deal(["A", "B"], 2)
    assert shares.of_line(b'{"kind": "work", "contract" : "B", "id": "w1"}\n') == 1
    # the key twice (a nested object): the line is decoded to find the record's own contract
    assert shares.of_line(b'{"meta": {"contract": "A"}, "contract": "B"}\n') == 1
    # an escaped id is decoded too
    assert shares.of_line(b'{"contract": "\\u0042"}\n') == 1
    assert shares.of_line(b"not json\n") == 0
    assert shares.of(None) == 0


def test_jobs_default_to_one_process_for_small_inputs(tmp_path):
    from cso_policy.core.pipeline import default_jobs
    from cso_policy.inputs.ingest import Input

    small = tmp_path / "small.jsonl"
    small.write_text("{}\n")
    assert default_jobs([Input(source="jsonl", plugin="-", where=str(small), read=iter, path=small)]) == 1


def test_jobs_below_one_are_a_usage_error(tmp_path):
    build(tmp_path, 1, 1, 3, 1)
    result = CliRunner().invoke(main, audit_args(tmp_path, "--jobs", "0"))
    assert result.exit_code == 2
    assert "Invalid value for '--jobs'" in result.output


@pytest.fixture(scope="module")
def dask_cluster():
    """A real Dask LocalCluster with two worker processes, for the whole module."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        yield cluster.scheduler_address


def test_a_dask_cluster_gives_the_report_of_one_process_byte_for_byte(tmp_path, dask_cluster):
    build(tmp_path, 42, 4, 150, 2)
    waivers = ["--waivers", str(tmp_path / "waivers.toml")]
    one = invoke(audit_args(tmp_path, "--jobs", "1", *waivers))
    cluster = invoke(audit_args(tmp_path, "--scheduler", dask_cluster, *waivers))
    assert cluster.exit_code == one.exit_code
    assert cluster.stdout_bytes == one.stdout_bytes
    assert json.loads(one.stdout)["summary"]["findings"] > 0


def test_the_example_workspace_on_a_dask_cluster(dask_cluster):
    example = Path(__file__).parent.parent / "examples" / "northwind"
    args = ["audit", str(example), "--as-of", AS_OF, "--format", "json", "-q"]
    one = invoke(args + ["--jobs", "1"])
    assert invoke(args + ["--scheduler", dask_cluster]).stdout_bytes == one.stdout_bytes


def test_an_unreachable_scheduler_is_one_line_and_exit_2(tmp_path, monkeypatch):
    monkeypatch.setattr("cso_policy.core.cluster.CONNECT_TIMEOUT", "1s")  # nothing listens there
    build(tmp_path, 1, 1, 3, 1)
    result = CliRunner().invoke(main, audit_args(tmp_path, "--scheduler", "tcp://127.0.0.1:9"))
    assert result.exit_code == 2, result.output
    assert result.output.startswith("cso-policy: error: --scheduler tcp://127.0.0.1:9: cannot reach the scheduler")
    assert len(result.output.strip().splitlines()) == 1
