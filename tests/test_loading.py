"""Loading inputs (SPEC §2): contract files, folders and globs, record files, the workspace; and
the input rules input.invalid_record and input.unknown_reference.

File-system cases run on pyfakefs (``fs``); ``NON_ROOT`` makes chmod 000 bite even when the
tests run as root.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from cso_policy.core import pipeline as app
from cso_policy.cli import main
from cso_policy.errors import ConfigError
from cso_policy.inputs.workspace import load_contracts, load_workspace
from tests.conftest import (
    NON_ROOT,
    add_real_data,
    assert_exit_2,
    audit_records,
    catalogue,
    contract_toml,
    delivery,
    expense,
    invoice,
    make_contract,
    of,
    only,
    ticket,
    work,
    write_contract,
    write_records,
)

INVALID = "input.invalid_record"
UNKNOWN = "input.unknown_reference"
TIERS = "foundations, fundamentals, premier, expert, strategic"


def assert_one_line_error(result, *parts: str) -> None:
    assert_exit_2(result, *parts, one_line=True)


# ---------------------------------------------------------------- contracts: files, folders, globs


def test_contract_file_loads_and_remembers_its_path(fs):
    write_contract(Path("/ws/c1.toml"), make_contract("C-1", tier="Fundamental"))
    [contract] = load_contracts(["c1.toml"], Path("/ws"))
    assert (contract.id, contract.path, contract.packages[0].tier) == ("C-1", "/ws/c1.toml", "Fundamental")
    assert contract.term.start == date(2026, 1, 1)


def test_missing_contract_file(fs):
    with pytest.raises(ConfigError, match=r"/ws/nope\.toml: no such file or folder"):
        load_contracts(["nope.toml"], Path("/ws"))


def test_contract_folder_loads_every_toml_file_recursively_in_order(fs):
    write_contract(Path("/ws/contracts/b.toml"), make_contract("B"))
    write_contract(Path("/ws/contracts/a.toml"), make_contract("A"))
    write_contract(Path("/ws/contracts/sub/c.toml"), make_contract("C"))
    fs.create_file("/ws/contracts/notes.txt", contents="not a contract")
    assert [c.id for c in load_contracts(["contracts"], Path("/ws"))] == ["A", "B", "C"]


def test_contract_glob(fs):
    write_contract(Path("/ws/contracts/b.toml"), make_contract("B"))
    write_contract(Path("/ws/contracts/a.toml"), make_contract("A"))
    write_contract(Path("/ws/contracts/sub/c.toml"), make_contract("C"))
    assert [c.id for c in load_contracts(["contracts/*.toml"], Path("/ws"))] == ["A", "B"]
    assert [c.id for c in load_contracts(["contracts/**/*.toml"], Path("/ws"))] == ["A", "B", "C"]


def test_contract_glob_matching_nothing(fs):
    fs.create_dir("/ws/contracts")
    with pytest.raises(ConfigError, match=r"contracts/\*\.toml: no file matches"):
        load_contracts(["contracts/*.toml"], Path("/ws"))


def test_empty_contract_folder(fs):
    fs.create_dir("/ws/contracts")
    with pytest.raises(ConfigError, match=r"/ws/contracts: no \.toml files in this folder"):
        load_contracts(["contracts"], Path("/ws"))


@NON_ROOT
def test_unreadable_contract_file(fs):
    write_contract(Path("/ws/c1.toml"), make_contract())
    os.chmod("/ws/c1.toml", 0o000)
    with pytest.raises(ConfigError, match=r"/ws/c1\.toml: cannot read \(Permission denied\)"):
        load_contracts(["c1.toml"], Path("/ws"))


def test_empty_contract_file(fs):
    fs.create_file("/ws/c1.toml", contents="")
    with pytest.raises(ConfigError, match=r"/ws/c1\.toml \$\.id: required field missing"):
        load_contracts(["c1.toml"], Path("/ws"))


def test_broken_toml_contract(fs):
    fs.create_file("/ws/c1.toml", contents='id = "C-1"\n[[packages]\n')
    with pytest.raises(ConfigError, match=r"/ws/c1\.toml: invalid TOML \(.*line 2"):
        load_contracts(["c1.toml"], Path("/ws"))


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ('tier = "premier"', "tier = 5", r"\$\.packages\[0\]\.tier: expected a string, got 5"),
        ("start = 2026-01-01,", "start = 2026-01-01T00:00:00,", r"\$\.term\.start: expected a date \(YYYY-MM-DD\), got a date-time"),
        ('customer = "Customer C-1"', 'customer = "Customer C-1"\ncolour = "blue"', r"\$: unknown field\(s\): colour"),
        ('id = "p1"', "", r"\$\.packages\[0\]\.id: required field missing"),
    ],
)
def test_contract_with_a_bad_field_names_the_field(fs, old, new, problem):
    text = contract_toml(make_contract())
    assert old in text
    fs.create_file("/ws/c1.toml", contents=text.replace(old, new))
    with pytest.raises(ConfigError, match=r"^/ws/c1\.toml " + problem):
        load_contracts(["c1.toml"], Path("/ws"))


# ---------------------------------------------------------------- contracts resolved against the policy


@pytest.mark.parametrize(
    ("contracts", "problem"),
    [
        ([make_contract(tier="gold")], rf"\$\.packages\[0\]\.tier: unknown tier 'gold' \(expected one of {TIERS}\)"),
        ([make_contract(timezone="Mars/Olympus")], r"\$\.timezone: unknown IANA time zone 'Mars/Olympus'"),
        ([make_contract(start=date(2026, 6, 1), end=date(2026, 5, 31))], r"\$\.term: end 2026-05-31 is before start 2026-06-01"),
        ([make_contract(packages=[("p1", "premier", ["a"]), ("p2", "expert", ["a"])])],
         r"\$\.packages\[1\]\.lines_of_business: 'a' is already in package 'p1'"),
        ([make_contract(packages=[("p1", "premier", ["a"]), ("p1", "expert", ["b"])])],
         r"\$\.packages\[1\]\.id: duplicate package id 'p1'"),
        ([make_contract(policy="liveperson-cso@9.9")], r"\$\.policy: unknown policy 'liveperson-cso@9\.9'"),
        ([make_contract(path="x.toml"), make_contract(path="y.toml")], r"contract id 'C-1' is also defined in x\.toml"),
    ],
    ids=["bad-tier", "bad-timezone", "term-backwards", "lob-in-two-packages", "duplicate-package", "unknown-policy",
         "duplicate-contract"],
)
def test_contract_that_cannot_be_resolved_is_a_config_error(contracts, problem):
    with pytest.raises(ConfigError, match=problem):
        audit_records(contracts, [])


def test_tier_alias_fundamental():
    # Section 1 says "Fundamental Package": an alias of fundamentals, 65 h/quarter; 66 h -> 1 h over.
    f = only(audit_records(make_contract(tier="Fundamental"), [work("w1", "2026-01-05", 66)]),
             "entitlement.quarterly_hours")
    assert "(fundamentals; a)" in f.message and f.impact.hours == 1.0


# ---------------------------------------------------------------- the CLI on a fake file system


def test_cli_contract_with_a_bad_tier_exits_2_with_one_line(fs, runner):
    add_real_data(fs)
    write_contract(Path("/ws/c1.toml"), make_contract(tier="gold"))
    write_records(Path("/ws/records.jsonl"), [])
    result = runner.invoke(main, ["audit", "--contracts", "/ws/c1.toml", "--records", "/ws/records.jsonl"])
    assert_one_line_error(result, "/ws/c1.toml $.packages[0].tier: unknown tier 'gold'")


def test_cli_broken_toml_exits_2_with_one_line(fs, runner):
    add_real_data(fs)
    fs.create_file("/ws/c1.toml", contents="id = \n")
    write_records(Path("/ws/records.jsonl"), [])
    result = runner.invoke(main, ["audit", "--contracts", "/ws/c1.toml", "--records", "/ws/records.jsonl"])
    assert_one_line_error(result, "/ws/c1.toml: invalid TOML")


@NON_ROOT
def test_cli_unreadable_records_file_exits_2(fs, runner):
    add_real_data(fs)
    write_contract(Path("/ws/c1.toml"), make_contract())
    write_records(Path("/ws/records.jsonl"), [work("w1", "2026-01-05", 1)])
    os.chmod("/ws/records.jsonl", 0o000)
    result = runner.invoke(main, ["audit", "--contracts", "/ws/c1.toml", "--records", "/ws/records.jsonl"])
    assert_one_line_error(result, "/ws/records.jsonl: cannot read (Permission denied)")


@pytest.mark.parametrize(
    ("records", "problem"),
    [
        ("/ws/missing.jsonl", "/ws/missing.jsonl: no such file or folder"),
        ("/ws/empty", "/ws/empty: no .csv/.jsonl/.ndjson/.parquet files in this folder"),
        ("/ws/*.ndjson", "/ws/*.ndjson: no file matches"),
        ("/ws/records.xlsx", "/ws/records.xlsx: no record source reads .xlsx files"),
        ("/ws/records.csv", "records /ws/records.csv (source csv) $.kind: required: the record kind of every row"),
    ],
)
def test_cli_record_inputs_that_cannot_be_read_exit_2(fs, runner, records, problem):
    add_real_data(fs)
    write_contract(Path("/ws/c1.toml"), make_contract())
    fs.create_dir("/ws/empty")
    fs.create_file("/ws/records.csv", contents="id,hours\n")
    fs.create_file("/ws/records.xlsx", contents="")
    result = runner.invoke(main, ["audit", "--contracts", "/ws/c1.toml", "--records", records])
    assert_one_line_error(result, problem)


def test_cli_empty_records_file_is_a_clean_audit(fs, runner):
    add_real_data(fs)
    write_contract(Path("/ws/c1.toml"), make_contract())
    fs.create_file("/ws/records.jsonl", contents="")
    result = runner.invoke(main, ["audit", "--contracts", "/ws/c1.toml", "--records", "/ws/records.jsonl",
                                  "--as-of", "2026-06-01T00:00:00Z"])
    assert result.exit_code == 0, result.output
    assert "0 finding(s) (0 error, 0 warning, 0 info) in 0 record(s) over 1 contract(s)" in result.stdout


def test_cli_records_folder_and_glob(fs, runner):
    # Two files in records/: 100 h + 20 h for Premier C-1 in 2026-Q1 = 120 h > 113 -> 7 h over.
    add_real_data(fs)
    write_contract(Path("/ws/c1.toml"), make_contract())
    write_records(Path("/ws/records/1.jsonl"), [work("w1", "2026-01-05", 100)])
    write_records(Path("/ws/records/2.ndjson"), [work("w2", "2026-01-06", 20)])
    for spec in ("/ws/records", "/ws/records/*"):
        result = runner.invoke(main, ["audit", "--contracts", "/ws/c1.toml", "--records", spec,
                                      "--select", "entitlement.*", "--as-of", "2026-06-01T00:00:00Z"])
        assert result.exit_code == 0, result.output  # a quarterly-hours finding is a warning
        assert "/ws/records/2.ndjson:1: warning: entitlement.quarterly_hours" in result.stdout


# ---------------------------------------------------------------- workspace


def test_workspace_paths_are_relative_to_its_folder(fs):
    # Premier: 100 h + 20 h in 2026-Q1 = 120 h > 113 -> 7 h over, found through the workspace's lists.
    add_real_data(fs)
    write_contract(Path("/ws/contracts/c1.toml"), make_contract())
    write_records(Path("/ws/records/r1.jsonl"), [work("w1", "2026-01-05", 100)])
    write_records(Path("/ws/records/r2.jsonl"), [work("w2", "2026-01-06", 20)])
    fs.create_file("/ws/cso-policy.toml", contents='contracts = ["contracts"]\nrecords = ["records/*.jsonl"]\n')
    fs.create_dir("/elsewhere")
    os.chdir("/elsewhere")
    ws = load_workspace(Path("/ws"))
    contracts = load_contracts(ws.contracts, ws.root)
    cat = catalogue()
    result, _ = app.audit(cat, contracts, list(ws.records), base=ws.root, rules=cat.select(["entitlement.*"]))
    [f] = result.findings
    assert (f.rule, f.record, f.source) == ("entitlement.quarterly_hours", "w2", "/ws/records/r2.jsonl:1")


def test_workspace_without_config(fs):
    fs.create_dir("/ws")
    with pytest.raises(ConfigError, match=r"/ws: no cso-policy\.toml"):
        load_workspace(Path("/ws"))


def test_workspace_with_an_unknown_key(fs):
    fs.create_file("/ws/cso-policy.toml", contents='contracts = ["c"]\nrecrods = ["r.jsonl"]\n')
    with pytest.raises(ConfigError, match=r"unknown key\(s\) recrods"):
        load_workspace(Path("/ws"))


# ---------------------------------------------------------------- input.invalid_record

VALID = [work("w1", "2026-01-05", 1), delivery("d1", "2026-01-05", "customer_account_plan")]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("{not json", "$: invalid JSON"),
        ('[1, 2]', "$: expected an object, got [1, 2]"),
        ('{"id": "x", "contract": "C-1"}', "$.kind: required field missing (one of delivery, expansion_scope, "
                                           "expense, invoice_line, ticket, work)"),
        ('{"kind": "timesheet", "id": "x", "contract": "C-1"}', "$.kind: expected one of delivery, expansion_scope, "
                                                                "expense, invoice_line, ticket, work, got 'timesheet'"),
        (ticket("t1", "2026-03-02T10:00:00Z", severity="P4"), "$.severity: expected one of P1, P2, P3"),
        (ticket("t1", "2026-03-02T10:00:00"),
         "$.opened_at: timestamp '2026-03-02T10:00:00' has no UTC offset (add Z or +hh:mm)"),
        (ticket("t1", "2026-03-02T10:00:00Z", updates=["2026-03-02T11:00:00"]),
         "$.updates[0]: timestamp '2026-03-02T11:00:00' has no UTC offset (add Z or +hh:mm)"),
        (ticket("t1", "2026-03-02T10:00:00Z", channel="fax"), "$.channel: expected one of web, chat, phone, messaging, email"),
        (ticket("t1", "2026-03-02T10:00:00Z", resolved_at="2026-03-02T25:00:00Z"),
         "$.resolved_at: expected an ISO 8601 timestamp, got '2026-03-02T25:00:00Z'"),
        (ticket("t1", "2026-03-02T10:00:00 +05:00"),
         "$.opened_at: expected an ISO 8601 timestamp, got '2026-03-02T10:00:00 +05:00'"),
        (work("w9", "2026-01-05", "5"), "$.hours: expected a number, got '5'"),
        (work("w9", "2026-01-05T09:00:00", 5), "$.date: expected a date (YYYY-MM-DD), got '2026-01-05T09:00:00'"),
        ({**work("w9", "2026-01-05", 5), "colour": "blue"}, "$: unknown field(s): colour"),
        ({k: v for k, v in work("w9", "2026-01-05", 5).items() if k != "hours"}, "$.hours: required field missing"),
        (expense("e1", "2026-03-02", 10.0, "2026-03-01T10:00:00"), "$.approved_at: timestamp"),
        (work("w9", "2026-01-05", 5, service="astrology"), "$.service: expected one of agent_effectiveness, "),
        (delivery("d9", "2026-01-05", "horoscope"), "$.deliverable: expected one of agent_effectiveness, "),
        (invoice("i9", "overage_hours", period="2026-Q5"),
         "$.period: expected a contract period like 2026-Q1 or 2026, got '2026-Q5'"),
        (invoice("i9", "tip"), "$.item: expected one of overage_hours, additional_service, expense, surcharge, deliverable"),
    ],
    ids=["broken-json", "not-an-object", "no-kind", "unknown-kind", "severity", "naive-timestamp",
         "naive-update", "channel", "hour-25", "space-before-offset", "hours-string", "date-time-as-date", "unknown-field", "missing-field",
         "naive-approval", "unknown-service", "unknown-deliverable", "bad-period", "bad-invoice-item"],
)
def test_invalid_record_names_file_line_and_field(line, problem):
    findings = audit_records(make_contract(), VALID + [line])
    f = only(findings, INVALID)
    assert f.impact is None
    assert f.source.endswith("records.jsonl:3")
    assert f"records.jsonl:3 {problem}" in f.message
    assert str(f.level) == "error" and f.clause == "record format"
    assert findings == [f]  # the valid records have nothing to report


def test_invalid_record_keeps_its_contract_when_it_can():
    # line 1 names contract C-1, so the finding does (and the policy it pins)
    f = only(audit_records(make_contract(), [ticket("t1", "2026-03-02T10:00:00Z", severity="P9")]), INVALID)
    assert (f.contract, f.policy, f.record) == ("C-1", "liveperson-cso@1.0", None)
    assert f.message.endswith("records.jsonl:1 $.severity: expected one of P1, P2, P3, got 'P9'")


def test_each_bad_field_of_a_record_is_reported():
    record = work("w9", "2026-01-05T09:00:00", True)
    messages = [f.message.split(":1 ")[-1] for f in of(audit_records(make_contract(), [record]), INVALID)]
    assert messages == ["$.date: expected a date (YYYY-MM-DD), got '2026-01-05T09:00:00'",
                        "$.hours: expected a number, got True"]


def test_the_audit_goes_on_after_a_bad_record():
    # Premier: 113 h/quarter. Line 2 is broken; lines 1 and 3 (100 h + 20 h = 120 h) still count:
    # 7 h over, crossed by w3. Blank lines are skipped without a finding.
    records = [work("w1", "2026-01-05", 100), "{oops", "", work("w3", "2026-01-06", 20)]
    findings = audit_records(make_contract(), records, select=["entitlement.*", "input.*"])
    assert [(f.rule, f.record, f.source.rpartition("/")[2]) for f in findings] == [
        (INVALID, None, "records.jsonl:2"),
        ("entitlement.quarterly_hours", "w3", "records.jsonl:4"),
    ]


def test_valid_records_have_no_input_findings():
    records = VALID + [ticket("t1", "2026-03-02T10:00:00+01:00", updates=["2026-03-02T11:00:00Z"]),
                       expense("e1", "2026-03-02", 10.0, "2026-03-01T10:00:00Z", related="d1"),
                       invoice("i1", "expense", ref="e1", quantity=1, rate=10.0)]
    assert audit_records(make_contract(), records, select=["input.*"]) == []


# ---------------------------------------------------------------- input.unknown_reference


def test_record_of_an_unknown_contract():
    f = only(audit_records(make_contract(), [work("w1", "2026-01-05", 1, contract="NOPE")]), UNKNOWN)
    assert (f.record, f.contract, f.message, f.impact) == ("w1", "NOPE", "unknown contract 'NOPE'", None)
    assert f.source.endswith("records.jsonl:1")


def test_record_of_an_unknown_line_of_business():
    # the record is not audited further: its 200 h do not count toward any pool
    f = only(audit_records(make_contract(), [work("w1", "2026-01-05", 200, lob="zz")]), UNKNOWN)
    assert (f.record, f.lob, f.message) == ("w1", "zz", "unknown line of business 'zz' in contract C-1")


def test_expansion_scope_of_an_unknown_package():
    scope = {"kind": "expansion_scope", "id": "xs1", "contract": "C-1", "package": "nope", "pack": "basic",
             "use": "new_line_of_business", "hours": 36, "approved_at": "2026-01-20T15:30:00-05:00"}
    f = only(audit_records(make_contract(), [scope], select=["input.*"]), UNKNOWN)
    assert (f.record, f.message) == ("xs1", "unknown package 'nope' in contract C-1")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (invoice("i1", "additional_service", ref="d9"), "ref 'd9' names no delivery of contract C-1"),
        (invoice("i1", "surcharge", ref="e1"), "ref 'e1' names no delivery of contract C-1"),
        (invoice("i1", "expense", ref="d1"), "ref 'd1' names no expense of contract C-1"),
        (invoice("i1", "expense"), "an expense line needs a ref to the expense it bills"),
    ],
)
def test_invoice_line_whose_ref_names_nothing(line, message):
    records = [delivery("d1", "2026-01-05", "customer_account_plan"),
               expense("e1", "2026-01-05", 10.0, "2026-01-01T00:00:00Z"), line]
    f = only(audit_records(make_contract(), records), UNKNOWN)
    assert (f.record, f.message) == ("i1", message)


def test_invoice_lines_whose_refs_resolve():
    records = [delivery("d1", "2026-03-10", "on_site_operations_monitoring"),
               expense("e1", "2026-03-10", 10.0, "2026-03-01T00:00:00Z"),
               invoice("i1", "additional_service", ref="d1", rate=3000.0),
               invoice("i2", "expense", ref="e1", rate=10.0),
               invoice("i3", "overage_hours", quantity=0.0)]  # overage lines need no ref
    assert of(audit_records(make_contract(), records), UNKNOWN) == []


def test_structuring_a_record_leaves_the_callers_dict_as_it_was():
    from cso_policy.testing import structure_record

    obj = work("w1", "2026-01-05", 5)
    before = dict(obj)
    record = structure_record(obj)
    assert (record.kind, record.id, record.hours) == ("work", "w1", 5.0)
    assert obj == before  # "kind" is still there: a source may yield the same dict again
