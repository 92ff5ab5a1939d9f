"""The benchmark (tests/bench.py) still runs end to end at a tiny size: one line per mix and
format, and the targets block. No timing assertions: the targets live in the benchmark."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

BENCH_PATH = Path(__file__).with_name("bench.py")


@pytest.fixture(scope="module")
def bench():
    """tests/bench.py as a module (tests/ is not a package)."""
    spec = importlib.util.spec_from_file_location("cso_policy_bench", BENCH_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_bench_prints_a_line_per_mix_and_format_and_the_targets(bench, capsys):
    one_process = ["--jobs", "1"] if bench.cli_has_jobs() else []  # without --jobs the bench runs one
    code = bench.main(["-n", "3000", "--tickets-n", "500", "--mix", "compliant", "--mix", "ticket-heavy",
                       "--mix", "findings500k", "--format", "json", *one_process])
    out = capsys.readouterr().out
    assert code == 0, out
    for mix in ("compliant", "ticket-heavy", "findings500k"):
        assert f"{mix}: " in out
    lines = [line for line in out.splitlines() if " jobs 1:" in line]
    assert len(lines) == 3, out  # one per mix
    assert all("rec/s" in line and "x parse" in line and "findings/s" in line and "peak RSS" in line for line in lines)
    assert "FAILED" not in out
    targets = out[out.index("targets:"):].splitlines()[1:]
    assert len(targets) == 4
    assert all(line.split()[0] in ("PASS", "MISS", "SKIP") for line in targets)
    assert targets[0].split()[0] != "SKIP" and targets[1].split()[0] != "SKIP" and targets[3].split()[0] != "SKIP"


def test_the_ticket_heavy_mix_gives_sla_findings_of_every_kind(bench, tmp_path):
    mix = bench.generate("ticket-heavy", tmp_path, n=0, m=0, tickets_n=2000)
    tickets = [json.loads(line) for line in mix.records_file.read_text().splitlines()]
    assert len(tickets) == 2000 and mix.contracts == bench.TICKET_HEAVY_CONTRACTS
    never_answered = sum(t["first_response_at"] is None for t in tickets) / len(tickets)
    still_open = sum(t["resolved_at"] is None for t in tickets) / len(tickets)
    assert 0.01 < never_answered < 0.05 and 0.09 < still_open < 0.17
    assert 5.5 < sum(len(t["updates"]) for t in tickets) / len(tickets) < 6.5
