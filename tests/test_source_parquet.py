"""The Parquet record source (``source = "parquet"``): rows read in record batches with pyarrow,
through the column map the table sources share; typed cells (decimals, dates, timestamps with
and without a time zone, lists of timestamps) give the same records, and so the same findings,
as the same records in JSON Lines.

Worked case (seed Section 1): the example contract's Premier package has 113 h per contract
quarter; w1 60 h on 2026-01-05 and w2 60 h on 2026-02-02 make 120 h, and w2 crosses: 7 h over.

The source is loaded as a plugin here (it is not yet a default one); registering it again once
it is a default plugin changes nothing.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

import cso_policy.inputs.parquet as parquet_source  # noqa: E402
from cso_policy import ConfigError  # noqa: E402
from cso_policy.cli import main  # noqa: E402
from cso_policy.testing import EXAMPLE_CONTRACT_ID, Workspace, catalogue  # noqa: E402
from tests.conftest import assert_exit_2  # noqa: E402

QUARTERLY = "entitlement.quarterly_hours"
AS_OF = "2027-01-01T00:00:00Z"
PLUGIN = "cso_policy.inputs.parquet"
UTC = timezone.utc
NEW_YORK = ZoneInfo("America/New_York")

WORK = [("w1", date(2026, 1, 5), Decimal("60.00")), ("w2", date(2026, 2, 2), Decimal("60.00"))]


def work_jsonl(rows) -> list[dict]:
    return [{"kind": "work", "id": id, "date": day.isoformat(), "lob": "retail", "hours": float(hours),
             "service": "general_account_consulting"} for id, day, hours in rows]


def write(path: Path, columns: dict, **kwargs) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns), path, **kwargs)
    return path


def work_table(rows, *, hours=pa.decimal128(6, 2), contract: bool = True) -> dict:
    columns = {
        "id": pa.array([r[0] for r in rows], pa.string()),
        "date": pa.array([r[1] for r in rows], pa.date32()),
        "lob": pa.array(["retail"] * len(rows), pa.string()),
        "hours": pa.array([r[2] if hours == pa.decimal128(6, 2) else float(r[2]) for r in rows], hours),
        "service": pa.array(["general_account_consulting"] * len(rows), pa.string()),
    }
    if contract:
        columns["contract"] = pa.array([EXAMPLE_CONTRACT_ID] * len(rows), pa.string())
    return columns


def workspace(tmp_path: Path, name: str = "ws") -> Workspace:
    ws = Workspace(tmp_path / name)
    ws.contract()
    return ws


def audit(ws: Workspace, **kwargs):
    return ws.audit(plugins=[parquet_source], as_of=AS_OF, **kwargs)


def findings(result) -> list[tuple]:
    """The findings without where they were read (files and rows differ between sources)."""
    return sorted((f.rule, f.record, f.level.name, re.sub(r"\S*/records/\S+?:\d+", "<where>", f.message),
                   f.impact.as_dict() if f.impact is not None else None) for f in result.findings)


def jsonl_findings(tmp_path: Path, records: list[dict]) -> list[tuple]:
    ws = workspace(tmp_path, "jsonl")
    ws.records(records)
    return findings(audit(ws))


def inputs(result) -> dict:
    return {Path(i["input"]).name: i for i in result.report.summary()["inputs"]}


def counts(entry: dict) -> dict:
    return {k: v for k, v in entry.items() if k not in ("source", "input")}


def bound(**options) -> parquet_source.ParquetOptions:
    structured = parquet_source.ParquetOptions(**options)
    assert structured.bind(catalogue([parquet_source]).kinds) == []
    return structured


# ---------------------------------------------------------------- the worked case


def test_decimal_hours_and_dates_give_the_same_findings_as_jsonl(tmp_path):
    ws = workspace(tmp_path)
    write(ws.root / "records" / "work.parquet", work_table(WORK))
    ws.source("parquet", "records/work.parquet", kind="work")
    result = audit(ws)
    crossing = result.of(QUARTERLY)
    assert [(f.record, f.level.name, f.impact.hours) for f in crossing] == [("w2", "WARNING", 7.0)]
    assert crossing[0].source.endswith("work.parquet:2")  # the second row
    assert findings(result) == jsonl_findings(tmp_path, work_jsonl(WORK))
    assert counts(inputs(result)["work.parquet"]) == {
        "read": 2, "counted": 2, "duplicate": 0, "conflicting": 0, "invalid": 0, "unresolved": 0,
        "incomplete": 0, "left_out": 0}
    assert inputs(result)["work.parquet"]["source"] == "parquet"


def test_a_parquet_file_is_read_by_its_suffix_with_plugin_options(tmp_path):
    # no source named: the .parquet suffix picks it; kind and set come from [plugins.parquet]
    ws = workspace(tmp_path)
    ws.record_files.append(write(ws.root / "records" / "work.parquet", work_table(WORK, contract=False)))
    ws.plugin_options("parquet", kind="work", set={"contract": EXAMPLE_CONTRACT_ID})
    result = audit(ws)
    assert [(f.record, f.impact.hours) for f in result.of(QUARTERLY)] == [("w2", 7.0)]
    assert findings(result) == jsonl_findings(tmp_path, work_jsonl(WORK))


def test_float_hours_renamed_columns_and_a_constant_contract(tmp_path):
    ws = workspace(tmp_path)
    table = work_table(WORK, hours=pa.float64(), contract=False)
    renamed = {"Entry ID": table.pop("id"), "Worked on": table.pop("date"), "Hours": table.pop("hours"), **table,
               "unrelated": pa.array([[1, 2], None], pa.list_(pa.int64()))}
    write(ws.root / "records" / "export.parquet", renamed)
    ws.source("parquet", "records/export.parquet", kind="work", set={"contract": EXAMPLE_CONTRACT_ID},
              columns={"id": "Entry ID", "date": "Worked on", "hours": "Hours"})
    result = audit(ws)
    assert [(f.record, f.impact.hours) for f in result.of(QUARTERLY)] == [("w2", 7.0)]
    assert findings(result) == jsonl_findings(tmp_path, work_jsonl(WORK))


def test_several_batches_give_the_same_result(tmp_path):
    rows = [("w1", date(2026, 1, 5), Decimal("30")), ("w2", date(2026, 1, 20), Decimal("30")),
            ("w3", date(2026, 2, 2), Decimal("30")), ("w4", date(2026, 2, 16), Decimal("30")),
            ("w5", date(2026, 3, 2), Decimal("-1"))]  # 120 h valid: w4 crosses 113 h, 7 h over
    results = {}
    for batch in (2, 10000):
        ws = workspace(tmp_path, f"batch-{batch}")
        # small row groups too, so that batches and row groups cut the file differently
        write(ws.root / "records" / "work.parquet", work_table(rows), row_group_size=3)
        ws.source("parquet", "records/work.parquet", kind="work", batch=batch)
        results[batch] = audit(ws)
    one, several = results[10000], results[2]
    assert findings(several) == findings(one)
    assert [(f.record, f.impact.hours) for f in several.of(QUARTERLY)] == [("w4", 7.0)]
    (bad,) = several.of("input.invalid_record")
    assert bad.source.endswith("work.parquet:5")  # row numbers run on across batches
    assert counts(inputs(several)["work.parquet"]) == counts(inputs(one)["work.parquet"]) == {
        "read": 5, "counted": 4, "duplicate": 0, "conflicting": 0, "invalid": 1, "unresolved": 0,
        "incomplete": 0, "left_out": 0}
    assert findings(several) == jsonl_findings(tmp_path, work_jsonl(rows))


# ---------------------------------------------------------------- tickets: timestamps


def test_tickets_with_timestamps_and_lists_give_the_same_findings_as_jsonl(tmp_path):
    # opened_at with a UTC time zone, responses and resolutions without one (in New York, the
    # timezone option), updates a list of UTC timestamps; t1 is answered slowly, t2 on time
    opened = [datetime(2026, 3, 2, 14, 0, tzinfo=UTC), datetime(2026, 3, 3, 14, 0, tzinfo=UTC)]
    responded = [datetime(2026, 3, 2, 15, 0), datetime(2026, 3, 3, 9, 5)]  # New York wall clock
    resolved = [datetime(2026, 3, 9, 12, 0), None]
    updates = [[datetime(2026, 3, 2, 20, 0, tzinfo=UTC), datetime(2026, 3, 4, 20, 0, tzinfo=UTC)], []]
    ws = workspace(tmp_path)
    write(ws.root / "records" / "tickets.parquet", {
        "id": pa.array(["t1", "t2"]),
        "contract": pa.array([EXAMPLE_CONTRACT_ID] * 2),
        "lob": pa.array(["retail"] * 2),
        "severity": pa.array(["P1", "P2"]),
        "channel": pa.array(["web", "phone"]),
        "opened_at": pa.array(opened, pa.timestamp("us", tz="UTC")),
        "first_response_at": pa.array(responded, pa.timestamp("us")),
        "resolved_at": pa.array(resolved, pa.timestamp("us")),
        "updates": pa.array(updates, pa.list_(pa.timestamp("us", tz="UTC"))),
        "is_bug": pa.array([False, True]),
    })
    ws.source("parquet", "records/tickets.parquet", kind="ticket", timezone="America/New_York")
    result = audit(ws)
    assert not result.of("input.invalid_record"), [f.message for f in result.findings]
    # t1: opened 14:00 UTC, answered 15:00 in New York (20:00 UTC): 6 h for a 1 h target
    (late,) = result.of("sla.response")
    assert (late.record, late.impact.duration_seconds) == ("t1", 5 * 3600.0)
    assert len(result.of("sla.periodic_update")) == 3  # two gaps of t1's updates, t2 never updated

    def stamp(moment: datetime | None) -> str | None:
        if moment is None:
            return None
        return (moment if moment.tzinfo else moment.replace(tzinfo=NEW_YORK)).isoformat()

    records = [{"kind": "ticket", "id": id, "lob": "retail", "severity": severity, "channel": channel,
                "opened_at": stamp(o), "first_response_at": stamp(r), "updates": [stamp(u) for u in ups],
                "is_bug": bug} | ({"resolved_at": stamp(done)} if done else {})
               for id, severity, channel, o, r, done, ups, bug in zip(
                   ["t1", "t2"], ["P1", "P2"], ["web", "phone"], opened, responded, resolved, updates, [False, True])]
    assert findings(result) == jsonl_findings(tmp_path, records)


def test_severity_changes_from_a_list_of_structs(tmp_path):
    # a P3 raised to P1 an hour after it opened: the P1 clocks start at the change
    ws = workspace(tmp_path)
    change = pa.struct([("at", pa.timestamp("us", tz="UTC")), ("severity", pa.string())])
    write(ws.root / "records" / "t.parquet", {
        "id": pa.array(["t1"]), "contract": pa.array([EXAMPLE_CONTRACT_ID]), "lob": pa.array(["retail"]),
        "severity": pa.array(["P3"]), "channel": pa.array(["web"]),
        "opened_at": pa.array([datetime(2026, 3, 2, 14, 0, tzinfo=UTC)], pa.timestamp("us", tz="UTC")),
        "severity_changes": pa.array([[{"at": datetime(2026, 3, 2, 15, 0, tzinfo=UTC), "severity": "P1"}]],
                                     pa.list_(change))})
    ws.source("parquet", "records/t.parquet", kind="ticket")
    result = audit(ws)
    assert not result.of("input.invalid_record")
    records = [{"kind": "ticket", "id": "t1", "lob": "retail", "severity": "P3", "channel": "web",
                "opened_at": "2026-03-02T14:00:00+00:00",
                "severity_changes": [{"at": "2026-03-02T15:00:00+00:00", "severity": "P1"}]}]
    assert findings(result) == jsonl_findings(tmp_path, records)
    assert "severity change to P1" in result.of("sla.response")[0].message


def test_nanosecond_timestamps_are_read_to_the_microsecond(tmp_path):
    ws = workspace(tmp_path)
    opened = pa.array([1_772_460_000_123_456_789], pa.timestamp("ns", tz="UTC"))  # 2026-03-02 14:00:00.123456789
    write(ws.root / "records" / "t.parquet", {
        "id": pa.array(["t1"]), "contract": pa.array([EXAMPLE_CONTRACT_ID]), "lob": pa.array(["retail"]),
        "severity": pa.array(["P3"]), "channel": pa.array(["web"]), "opened_at": opened,
        "updates": pa.array([[1_772_460_001_000_000_001]], pa.list_(pa.timestamp("ns", tz="UTC")))})
    ws.source("parquet", "records/t.parquet", kind="ticket")
    records = list(parquet_source.read_parquet(ws.root / "records" / "t.parquet", bound(kind="ticket")))
    # typed timestamps come through as they are, cut to the microsecond
    assert [obj["opened_at"].isoformat() for _, _, obj in records] == ["2026-03-02T14:00:00.123456+00:00"]
    assert [[u.isoformat() for u in obj["updates"]] for _, _, obj in records] == [["2026-03-02T14:00:01+00:00"]]
    assert not audit(ws).of("input.invalid_record")


def test_a_timestamp_without_time_zone_and_no_timezone_option_is_an_invalid_record(tmp_path):
    ws = workspace(tmp_path)
    write(ws.root / "records" / "t.parquet", {
        "id": pa.array(["t1"]), "contract": pa.array([EXAMPLE_CONTRACT_ID]), "lob": pa.array(["retail"]),
        "severity": pa.array(["P3"]), "channel": pa.array(["web"]),
        "opened_at": pa.array([datetime(2026, 3, 2, 9, 0)], pa.timestamp("us"))})
    ws.source("parquet", "records/t.parquet", kind="ticket")
    (bad,) = audit(ws).of("input.invalid_record")
    assert bad.source.endswith("t.parquet:1")
    assert "column 'opened_at' ($.opened_at)" in bad.message and "timezone" in bad.message


# ---------------------------------------------------------------- bad rows


def test_negative_hours_are_an_invalid_record_naming_the_row(tmp_path):
    rows = [*WORK, ("w3", date(2026, 2, 3), Decimal("-3"))]
    ws = workspace(tmp_path)
    write(ws.root / "records" / "work.parquet", work_table(rows))
    ws.source("parquet", "records/work.parquet", kind="work")
    result = audit(ws)
    (bad,) = result.of("input.invalid_record")
    assert bad.source.endswith("work.parquet:3")
    assert bad.level.name == "ERROR"
    assert "$.hours: expected a number above 0, got -3" in bad.message
    assert [(f.record, f.impact.hours) for f in result.of(QUARTERLY)] == [("w2", 7.0)]
    assert (inputs(result)["work.parquet"]["read"], inputs(result)["work.parquet"]["invalid"]) == (3, 1)
    assert findings(result) == jsonl_findings(tmp_path, work_jsonl(rows))


def test_a_cell_of_the_wrong_type_is_an_invalid_record_naming_the_column(tmp_path):
    ws = workspace(tmp_path)
    table = work_table(WORK)
    table["date"] = pa.array([datetime(2026, 1, 5, 9, tzinfo=UTC), None], pa.timestamp("us", tz="UTC"))
    table["hours"] = pa.array(["60", "sixty"])
    write(ws.root / "records" / "work.parquet", table)
    ws.source("parquet", "records/work.parquet", kind="work")
    result = audit(ws)
    bad = {f.source.rsplit(":", 1)[1]: f.message for f in result.of("input.invalid_record")}
    assert set(bad) == {"1", "2"}
    assert "column 'date' ($.date): expected a date, got a timestamp" in bad["1"]
    assert "column 'hours' ($.hours): expected a number, got 'sixty'" in bad["2"]
    assert counts(inputs(result)["work.parquet"])["read"] == 2


# ---------------------------------------------------------------- unusable files and options


def cli_workspace(tmp_path: Path, entry: str) -> Path:
    ws = workspace(tmp_path)
    write(ws.root / "records" / "work.parquet", work_table(WORK))
    (ws.root / "cso-policy.toml").write_text(f'contracts = ["contracts"]\n[[records]]\n{entry}\n')
    return ws.root


def test_the_cli_reads_parquet_records(runner, tmp_path):
    root = cli_workspace(tmp_path, 'path = "records/work.parquet"\nsource = "parquet"\nkind = "work"')
    result = runner.invoke(main, ["--plugin", PLUGIN, "audit", str(root), "--as-of", AS_OF,
                                  "--format", "json", "--select", "entitlement.*"])
    assert result.exit_code == 0, result.output
    assert '"record": "w2"' in result.stdout


def test_the_cli_picks_parquet_by_suffix_with_plugins_parquet_options(runner, tmp_path):
    root = cli_workspace(tmp_path, 'path = "records/*.parquet"\nkind = "work"')
    config = root / "cso-policy.toml"
    config.write_text(config.read_text() + '\n[plugins.parquet]\nbatch = 1\ntimezone = "America/New_York"\n')
    result = runner.invoke(main, ["--plugin", PLUGIN, "audit", str(root), "--as-of", AS_OF,
                                  "--format", "json", "--select", "entitlement.*"])
    assert result.exit_code == 0, result.output
    assert '"record": "w2"' in result.stdout


def test_a_missing_mapped_column_exits_2_in_one_line(runner, tmp_path):
    root = cli_workspace(tmp_path, 'path = "records/work.parquet"\nsource = "parquet"\nkind = "work"\n'
                                   'columns = { hours = "Hours" }')
    result = runner.invoke(main, ["--plugin", PLUGIN, "audit", str(root), "--as-of", AS_OF])
    assert_exit_2(result, "work.parquet", "'Hours'", "$.columns.hours", one_line=True)
    assert result.stdout == ""  # no report


def test_a_file_that_is_not_parquet_exits_2_in_one_line(runner, tmp_path):
    root = cli_workspace(tmp_path, 'path = "records/broken.parquet"\nsource = "parquet"\nkind = "work"')
    (root / "records" / "broken.parquet").write_text('{"kind": "work"}\n' * 3)
    result = runner.invoke(main, ["--plugin", PLUGIN, "audit", str(root), "--as-of", AS_OF])
    assert_exit_2(result, "broken.parquet", "Parquet", one_line=True)


@pytest.mark.parametrize("entry, words", [
    ('kind = "work"\nbatch = 0', ["$.batch"]),
    ('kind = "work"\nbatch = "many"', ["$.batch"]),
    ('batch = 10', ["$.kind", "required"]),
    ('kind = "work"\ncolumns = { hourz = "Hours" }', ["$.columns.hourz"]),
    ('kind = "work"\nrows = 3', ["rows"]),
])
def test_bad_options_exit_2_in_one_line(runner, tmp_path, entry, words):
    root = cli_workspace(tmp_path, f'path = "records/work.parquet"\nsource = "parquet"\n{entry}')
    result = runner.invoke(main, ["--plugin", PLUGIN, "audit", str(root), "--as-of", AS_OF])
    assert_exit_2(result, "parquet", *words, one_line=True)


def test_without_pyarrow_the_source_says_how_to_install_it(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)  # import fails as if not installed
    path = write(tmp_path / "work.parquet", work_table(WORK))
    with pytest.raises(ConfigError) as caught:
        list(parquet_source.read_parquet(path, bound(kind="work")))
    assert "pip install 'cso-policy[parquet]'" in str(caught.value)
    assert "\n" not in str(caught.value)

