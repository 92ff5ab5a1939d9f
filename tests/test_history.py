"""The audit history: ``audit --store`` keeps each run (SQLite by default, PostgreSQL for a team),
``cso-policy history`` lists them, ``--baseline last`` compares with the last run of the same
workspace, the HTML report shows the runs over time; stored runs are append-only and a store
written by a newer cso-policy is refused."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from cso_policy.cli import main
from cso_policy.testing import Workspace
from tests.postgres import PASSWORD

AS_OF = "2027-01-01T00:00:00Z"


def work(id: str, day: str, hours: float) -> dict:
    return {"kind": "work", "id": id, "date": day, "lob": "retail", "hours": hours,
            "service": "general_account_consulting"}


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """Premier, 113 h a quarter: w1 60 h + w2 60 h in 2026-Q1 cross it (w2, 7 h over)."""
    ws = Workspace(tmp_path)
    ws.contract()
    ws.records([work("w1", "2026-01-05", 60), work("w2", "2026-02-02", 60)], name="hours.jsonl")
    (tmp_path / "cso-policy.toml").write_text('contracts = ["contracts"]\nrecords = ["records"]\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return ws


def audit(*extra: str):
    result = CliRunner().invoke(main, ["audit", ".", "--as-of", AS_OF, "-q", *extra])
    assert result.exit_code in (0, 1), result.output
    return result


def test_runs_are_kept_and_listed(workspace):
    first = audit("--store")
    assert "cso-policy: kept as run 1 in sqlite:///audits.db" in first.stderr
    audit("--store", "sqlite:///audits.db")
    listed = CliRunner().invoke(main, ["history", "."])
    assert listed.exit_code == 0
    lines = listed.output.splitlines()
    assert lines[0].split() == ["run", "ran", "at", "by", "as", "of", "findings", "waived", "money"]
    assert [line.split()[0] for line in lines[1:]] == ["1", "2"]
    # 2 findings: the cap crossed by 7 h, and those 7 h x USD 240 not on the draft invoice
    assert all(" 2027-01-01T00:00:00+00:00 " in line and line.split()[4:] == ["2", "0", "USD", "1,680.00"]
               for line in lines[1:]), lines
    as_json = json.loads(CliRunner().invoke(main, ["history", ".", "--format", "json"]).output)
    assert [(r["id"], r["findings"], r["amounts"]) for r in as_json] == [(1, 2, {"USD": 1680.0}), (2, 2, {"USD": 1680.0})]


def test_baseline_last_shows_only_what_is_new_since_the_last_run(workspace):
    none_yet = audit("--store", "--baseline", "last", "--format", "json")
    assert "no run of this workspace kept yet: every finding is new" in none_yet.stderr
    assert json.loads(none_yet.stdout)["summary"]["findings"] == 2
    workspace.records([work("w3", "2026-05-04", 120)], name="more.jsonl")  # 2026-Q2: 7 h over again
    newer = audit("--store", "--baseline", "last", "--format", "json")
    report = json.loads(newer.stdout)
    assert sorted((f["rule"], f["record"]) for f in report["findings"]) == [
        ("billing.overage_unbilled", "w3"), ("entitlement.quarterly_hours", "w3")]
    assert report["run"]["command"]["baseline_run"] == 1


def test_baseline_last_needs_a_store(workspace):
    result = CliRunner().invoke(main, ["audit", ".", "--as-of", AS_OF, "--baseline", "last"])
    assert result.exit_code == 2
    assert "--baseline last compares with the last run kept in a history store: give --store" in result.output


def test_verify_of_a_run_compared_with_a_stored_run_reads_the_store(workspace):
    audit("--store")
    report = audit("--store", "--baseline", "last", "--format", "json").stdout
    (workspace.root / "report.json").write_text(report, encoding="utf-8")
    without = CliRunner().invoke(main, ["verify", "report.json"])
    assert without.exit_code == 2 and "compared its findings with run 1 of a history store: give --store" in without.output
    verified = CliRunner().invoke(main, ["verify", "report.json", "--store"])
    assert verified.exit_code == 0, verified.output
    assert verified.output == "verified: the same 0 finding(s) from the same inputs, policies and tools\n"
    assert len(json.loads(CliRunner().invoke(main, ["history", "--format", "json"]).output)) == 2  # verify keeps none


def test_the_html_report_shows_the_runs_over_time(workspace):
    audit("--store")
    page = audit("--store", "--format", "html").stdout
    assert "<h2>History</h2>" in page and "Findings per run" in page
    assert page.count("<tr><td class=num>") >= 2  # one row a run


def test_stored_runs_are_append_only(workspace):
    audit("--store")
    engine = sa.create_engine("sqlite:///audits.db")
    for statement in ("UPDATE runs SET findings = 0", "DELETE FROM findings"):
        with pytest.raises(sa.exc.IntegrityError, match="stored audit runs are append-only"):
            with engine.begin() as connection:
                connection.execute(sa.text(statement))


def test_a_store_written_by_a_newer_version_is_refused(workspace):
    audit("--store")
    with sa.create_engine("sqlite:///audits.db").begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    result = CliRunner().invoke(main, ["audit", ".", "--as-of", AS_OF, "--store"])
    assert result.exit_code == 2
    assert result.output == ("cso-policy: error: --store sqlite:///audits.db: written by a newer cso-policy "
                             "(schema 9999; this one knows up to 0001); upgrade cso-policy to use it\n")


def test_an_unusable_store_is_one_line_and_exit_2(workspace):
    result = CliRunner().invoke(main, ["history", "--store", "nosuchdb://x"])
    assert result.exit_code == 2
    assert result.output.startswith("cso-policy: error: --store nosuchdb://x: cannot open the history store")
    assert result.output.count("\n") == 1


@pytest.mark.parametrize("damage, says", [
    ("UPDATE runs SET amounts = 'x'", "run 1 is damaged (amounts 'x' is not JSON)"),
    ("UPDATE runs SET amounts = '[1]'", "run 1 is damaged (amounts '[1]' is not a table of currency amounts)"),
    ("UPDATE runs SET amounts = '{\"USD\": \"abc\"}'", "is not a table of currency amounts"),
    ("UPDATE runs SET findings = 'lots'", "run 1 is damaged (findings 'lots' is not a whole number)"),
    ("DROP TABLE findings", "cannot read the history store (OperationalError"),
])
def test_a_store_edited_by_hand_is_one_line_and_no_run_is_added(workspace, damage, says):
    audit("--store")
    with sa.create_engine("sqlite:///audits.db").begin() as connection:
        connection.execute(sa.text("DROP TRIGGER runs_append_only_update"))
        connection.execute(sa.text(damage))
    # history reads the runs alone; audit --baseline last reads the runs and the last run's findings
    commands = [["audit", ".", "--as-of", AS_OF, "--store", "--baseline", "last", "--format", "html"]]
    for args in commands if damage.startswith("DROP") else [["history", "."], *commands]:
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2, result.output
        (line,) = result.stderr.splitlines()
        assert line.startswith("cso-policy: error: --store sqlite:///audits.db: ") and says in line, line
    with sa.create_engine("sqlite:///audits.db").connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM runs")).scalar() == 1


def test_a_team_store_in_postgresql(workspace, pg_server, postgresql):
    url = pg_server.url(dbname=postgresql.info.dbname)
    kept = audit("--store", url)
    assert "kept as run 1 in postgresql+psycopg://auditor:***@" in kept.stderr
    audit("--store", url)
    listed = CliRunner().invoke(main, ["history", "--store", url, "--format", "json"])
    assert [r["id"] for r in json.loads(listed.output)] == [1, 2]
    assert PASSWORD not in kept.stderr + kept.stdout + listed.output
    engine = sa.create_engine(url)
    with pytest.raises(sa.exc.SQLAlchemyError, match="stored audit runs are append-only"):
        with engine.begin() as connection:
            connection.execute(sa.text("DELETE FROM runs"))
    engine.dispose()
