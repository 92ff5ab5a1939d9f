"""The reproducible record of a run in the json report, and ``cso-policy verify``: the same run
made again from the record gives the same findings; a changed byte of an input is detected and
named; findings that differ are listed."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from cso_policy.cli import main
from cso_policy.testing import Workspace

AS_OF = "2027-01-01T00:00:00Z"


def work(id: str, day: str, hours: float) -> dict:
    return {"kind": "work", "id": id, "date": day, "lob": "retail", "hours": hours,
            "service": "general_account_consulting"}


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """Premier, 113 h a quarter: w1 60 h and w2 60 h in 2026-Q1 cross it (7 h over), from the
    workspace's own folder (verify runs from the folder the audit ran in)."""
    ws = Workspace(tmp_path)
    ws.contract()
    ws.records([work("w1", "2026-01-05", 60), work("w2", "2026-02-02", 60)], name="hours.jsonl")
    (tmp_path / "cso-policy.toml").write_text('contracts = ["contracts"]\nrecords = ["records"]\n'
                                              '[plugins.acme]\ntoken = "s3cret-token"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def audit(*extra: str) -> tuple[int, dict]:
    result = CliRunner().invoke(main, ["audit", ".", "--as-of", AS_OF, "--format", "json", "-q", *extra])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def verify(path: Path):
    return CliRunner().invoke(main, ["verify", str(path)])


def test_the_json_report_records_what_the_run_read_and_with_what(workspace):
    _, report = audit()
    run = report["run"]
    assert run["command"]["workspace"] == "." and run["command"]["as_of"] == "2027-01-01T00:00:00+00:00"
    (records,) = run["inputs"]
    assert records["input"] == "records/hours.jsonl" and records["records"] == 2
    data = (workspace / "records" / "hours.jsonl").read_bytes()
    import hashlib
    assert records["sha256"] == hashlib.sha256(data).hexdigest() and records["bytes"] == len(data)
    (policy,) = run["policies"]
    assert policy["ref"] == "liveperson-cso@1.0" and policy["content"] == policy["lock"]
    assert [c["path"] for c in run["contracts"]] == ["contracts/EX-2026.toml"]
    assert run["workspace_file"]["path"] == "cso-policy.toml"
    assert any(p["name"] == "cso_policy.inputs.jsonl" and p["version"] for p in run["plugins"])
    text = json.dumps(report)
    assert "s3cret-token" not in text and os.getcwd() not in text  # options by hash; no host data


def test_the_record_is_the_same_for_the_same_inputs(workspace):
    assert audit()[1] == audit()[1]


def test_verify_makes_the_run_again_and_finds_the_same(workspace):
    code, report = audit()
    # 7 h over the cap, and those 7 h are not on the (empty) draft invoice
    assert code == 1 and [f["rule"] for f in report["findings"]] == ["billing.overage_unbilled",
                                                                     "entitlement.quarterly_hours"]
    path = workspace / "report.json"
    path.write_text(json.dumps(report), encoding="utf-8")
    result = verify(path)
    assert result.exit_code == 0, result.output
    assert result.output == "verified: the same 2 finding(s) from the same inputs, policies and tools\n"


def test_one_changed_byte_of_an_input_is_detected_and_named(workspace):
    _, report = audit()
    path = workspace / "report.json"
    path.write_text(json.dumps(report), encoding="utf-8")
    records = workspace / "records" / "hours.jsonl"
    records.write_bytes(records.read_bytes().replace(b'"w1"', b'"w9"', 1))  # one byte
    result = verify(path)
    assert result.exit_code == 1
    assert result.output.endswith("  changed: input records/hours.jsonl: changed (sha256 differs)\n"
                                  "  the findings are the same\n")  # w2 still crosses the cap


def test_changed_hours_list_the_findings_that_are_new_and_gone(workspace):
    _, report = audit()
    path = workspace / "report.json"
    path.write_text(json.dumps(report), encoding="utf-8")
    records = workspace / "records" / "hours.jsonl"
    records.write_text(records.read_text().replace('"hours": 60', '"hours": 50'), encoding="utf-8")  # 100 h: no cap crossed
    result = verify(path)
    assert result.exit_code == 1
    assert "2 finding(s) gone:\n" in result.output
    assert "    entitlement.quarterly_hours w2 records/hours.jsonl:2: package p1 (premier; retail): 120 h worked" \
        in result.output
    assert "new:" not in result.output


def test_a_changed_waivers_file_is_named(workspace):
    waivers = workspace / "waivers.toml"
    waivers.write_text('[[waiver]]\nrule = "entitlement.*"\ncontract = "EX-2026"\nrecord = "w2"\nreason = "ok"\n'
                       'approved_by = "cfo"\nexpires = 2030-01-01\n', encoding="utf-8")
    _, report = audit("--waivers", "waivers.toml")
    assert report["run"]["waivers"]["path"] == "waivers.toml"
    path = workspace / "report.json"
    path.write_text(json.dumps(report), encoding="utf-8")
    waivers.write_text(waivers.read_text().replace('reason = "ok"', 'reason = "agreed"'), encoding="utf-8")
    result = verify(path)
    assert result.exit_code == 1 and "  changed: waivers: changed\n" in result.output


@pytest.mark.parametrize(("content", "message"), [
    ("not json", "not JSON"),
    ('{"findings": []}', "no run record"),
])
def test_a_report_verify_cannot_use_is_one_line_and_exit_2(workspace, content, message):
    path = workspace / "bad.json"
    path.write_text(content, encoding="utf-8")
    result = verify(path)
    assert result.exit_code == 2
    assert result.output.startswith(f"cso-policy: error: {path}: {message}") and result.output.count("\n") == 1


def test_a_missing_report_is_one_line_and_exit_2(workspace):
    result = verify(workspace / "missing.json")
    assert result.exit_code == 2 and "cannot read" in result.output and result.output.count("\n") == 1
