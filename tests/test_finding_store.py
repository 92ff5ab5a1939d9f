"""FindingStore, Findings, FindingCounts and the streamed reports built on them: sorted, stable,
spilled to disk beyond the in-memory limit, and the same bytes whether they spill or not."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import attrs
import jsonschema
import orjson
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from cso_policy.cli import main
from cso_policy.core import findings as findings_module
from cso_policy.core.findings import (FindingCounts, FindingStore, Findings, finding_from_row, finding_row,
                                      merged)
from cso_policy.core.model import Finding, Impact, Level
from cso_policy.reports import ITEMS, Report, write_json_streamed
from cso_policy.reports.junit import write_junit
from cso_policy.testing import EXAMPLE_AS_OF, Workspace

SARIF_SCHEMA = json.loads((Path(__file__).parent / "schemas" / "sarif-2.1.0.json").read_text(encoding="utf-8"))
FAST = settings(max_examples=60, derandomize=True, deadline=None)

# ---------------------------------------------------------------- strategies

_small = st.floats(min_value=0.001, max_value=1e6, allow_nan=False, allow_infinity=False)
impacts = st.one_of(
    st.none(),
    st.builds(Impact, hours=st.one_of(st.none(), _small), duration_seconds=st.one_of(st.none(), _small)),
    st.builds(Impact, hours=st.one_of(st.none(), _small), amount=_small, currency=st.sampled_from(["USD", "EUR"])),
)
waivers = st.one_of(st.none(), st.fixed_dictionaries({
    "reason": st.text(max_size=5), "approved_by": st.sampled_from(["ana", "bo"]),
    "expires": st.sampled_from(["2026-12-31", "2027-06-30"])}))
finding_values = st.builds(
    Finding,
    rule=st.sampled_from(["a.x", "b.y"]),
    level=st.sampled_from(list(Level)),
    contract=st.sampled_from([None, "", "C-1", "C-2"]),
    lob=st.sampled_from([None, "retail"]),
    record=st.sampled_from([None, "r1", "r2"]),
    source=st.sampled_from([None, "", "f.jsonl:1", "f.jsonl:2", "f.jsonl:10", "g.jsonl:1", "api", "f.jsonl",
                            "odd:name:3", "x:y"]),
    message=st.sampled_from(["m", "n", "ünï \"q\""]),
    clause=st.just("S"),
    policy=st.sampled_from([None, "p@1"]),
    impact=impacts,
    period=st.sampled_from([None, "2026-Q1"]),
    plugin=st.sampled_from([None, "acme"]),
    waiver=waivers,
)
# Every finding distinct (its clause carries its place), so a reordering of ties shows.
finding_lists = st.lists(finding_values, max_size=40).map(
    lambda fs: [attrs.evolve(f, clause=f"S{i}") for i, f in enumerate(fs)])


def _store(found: list[Finding], limit: int, folder: Path | None = None) -> FindingStore:
    store = FindingStore(limit=limit, folder=folder)
    for f in found:
        store.add(f)
    return store


def _finding(i: int, contract: str | None = "C-1", rule: str = "a.x", waiver: dict | None = None,
             level: Level = Level.ERROR, impact: Impact | None = None) -> Finding:
    return Finding(rule=rule, level=level, contract=contract, lob=None, record=f"r{i}", source=f"f.jsonl:{i}",
                   message=f"m{i}", clause="S", policy=None, impact=impact, waiver=waiver)


# ---------------------------------------------------------------- FindingStore / Findings


@pytest.mark.parametrize("limit", [1, 2, 5, 1000])
@FAST
@given(found=finding_lists)
def test_store_gives_findings_in_stable_sort_key_order_whatever_the_limit(limit, found):
    """Spilled runs and the in-memory batch merge to exactly the stable sort by sort_key."""
    store = _store(found, limit)
    if len(found) >= limit:
        assert store.runs  # at least one batch went to disk
    result = store.close()
    expected = sorted(found, key=Finding.sort_key)
    assert list(result) == expected
    assert list(result) == expected  # re-iterable: the runs are read again
    assert len(result) == len(found)
    assert bool(result) == bool(found)


@FAST
@given(found=finding_lists)
def test_finding_row_round_trips_through_orjson(found):
    """finding_from_row(loads(dumps(finding_row(f)))) == f for every field, impact and waiver."""
    for f in found:
        assert finding_from_row(orjson.loads(orjson.dumps(finding_row(f)))) == f


def test_store_with_limit_three_spills_runs_and_reads_them_back_sorted():
    """Ten findings added in reverse order with limit 3: three runs on disk, one left in memory."""
    found = [_finding(i) for i in range(10)][::-1]
    store = _store(found, 3)
    assert len(store.runs) == 3 and all(p.is_file() for p in store.runs)
    assert len(store.items) == 1
    result = store.close()
    assert [f.record for f in result] == [f"r{i}" for i in range(10)]  # by line number
    assert result == sorted(found, key=Finding.sort_key)
    assert repr(result) == "<Findings: 10>"


def test_empty_store_gives_no_findings():
    """A store nothing was added to closes to an empty, falsy Findings."""
    result = FindingStore(limit=2).close()
    assert list(result) == [] and len(result) == 0 and not result


# ---------------------------------------------------------------- FindingCounts


@FAST
@given(found=finding_lists, cut=st.integers(min_value=0, max_value=40))
def test_counts_as_they_pass_equal_counts_of_the_list_and_merge_of_halves(found, cut):
    """The store's running counts equal FindingCounts.of(list); merging two halves' counts
    equals counting the whole."""
    store = _store(found, 3)
    whole = FindingCounts.of(found)
    assert store.counts == whole
    assert store.close().counts.summary() == whole.summary()
    first, second = FindingCounts.of(found[:cut]), FindingCounts.of(found[cut:])
    first.merge(second)
    assert first.summary() == whole.summary()
    assert (first.total, first.waived, first.by_level, first.by_contract) == (
        whole.total, whole.waived, whole.by_level, whole.by_contract)


def test_waived_findings_are_counted_apart_and_not_by_level_or_rule():
    """A waived finding adds to total and waived only; the summary's findings leave it out."""
    waiver = {"reason": "ok", "approved_by": "ana", "expires": "2026-12-31"}
    counts = FindingCounts.of([
        _finding(1, rule="a.x", impact=Impact(hours=1.5, amount=10.0, currency="USD")),
        _finding(2, rule="b.y", waiver=waiver, impact=Impact(hours=7.0)),
        _finding(3, contract=None, rule="a.x", level=Level.WARNING, impact=Impact(amount=2.5, currency="USD")),
    ])
    assert (counts.total, counts.waived) == (3, 1)
    assert counts.by_level == {"error": 1, "warning": 1, "info": 0}
    assert counts.by_rule == {"a.x": [2, 1.5, {"USD": 12.5}]}
    assert counts.by_contract == {"C-1": 1, "-": 1}
    summary = counts.summary()
    assert (summary["findings"], summary["waived"]) == (2, 1)
    assert summary["by_rule"] == {"a.x": {"count": 2, "hours": 1.5, "amounts": {"USD": 12.5}}}


def test_highest_is_the_highest_level_not_waived():
    """highest(): None when nothing counts, else the highest level among findings not waived."""
    waiver = {"reason": "ok", "approved_by": "ana", "expires": "2026-12-31"}
    assert FindingCounts().highest() is None
    assert FindingCounts.of([_finding(1, waiver=waiver)]).highest() is None
    assert FindingCounts.of([_finding(1, level=Level.INFO), _finding(2, level=Level.WARNING)]).highest() \
        is Level.WARNING
    assert FindingCounts.of([_finding(1, level=Level.ERROR, waiver=waiver),
                             _finding(2, level=Level.INFO)]).highest() is Level.INFO
    assert FindingCounts.of([_finding(1, level=Level.ERROR)]).highest() is Level.ERROR


# ---------------------------------------------------------------- merged


@FAST
@given(a=finding_lists, b=finding_lists, c=finding_lists)
def test_merged_runs_of_two_stores_and_extra_findings_give_the_sorted_union(tmp_path_factory, a, b, c):
    """merged() of two stores' runs on disk plus an in-memory Findings is the sorted union (ties:
    the first store's, then the second's, then the extra ones), its counts those of all."""
    folder = tmp_path_factory.mktemp("runs")
    first, second = _store(a, 4, folder), _store(b, 1000, folder)
    extra = _store(c, 1000).close()
    both = merged([(first.to_disk(), first.counts), (second.to_disk(), second.counts)], extra)
    assert isinstance(both, Findings)
    assert list(both) == sorted(a + b + c, key=Finding.sort_key)
    assert len(both) == len(a) + len(b) + len(c)
    assert both.counts.summary() == FindingCounts.of(a + b + c).summary()


# ---------------------------------------------------------------- write_json_streamed

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-10**15, max_value=10**15),
                         st.sampled_from([1.5, -0.25, 3.0, 1e-3]), st.text(max_size=8),
                         st.sampled_from(['"quoted"', "back\\slash", "ünïcödé ✓", "tab\tnew\nline", "</x>"]))
json_data = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=5), inner, max_size=4)), max_leaves=12)


def _streamed(document: dict, items) -> str:
    out = io.StringIO()
    write_json_streamed(out, document, items)
    return out.getvalue()


def _put(document, items):
    """The document with the items in the place of ITEMS."""
    if document == ITEMS:
        return list(items)
    if isinstance(document, dict):
        return {k: _put(v, items) for k, v in document.items()}
    if isinstance(document, list):
        return [_put(v, items) for v in document]
    return document


@FAST
@given(items=st.lists(json_data, max_size=6), before=json_data, after=json_data)
def test_streamed_json_at_top_level_is_what_json_dumps_writes(items, before, after):
    """Items at the top level of the document: the text equals json.dumps(indent=2) of the whole."""
    document = {"before": before, "findings": ITEMS, "after": after}
    expected = _put(document, items)
    text = _streamed(document, iter(items))
    assert json.loads(text) == expected
    assert text == json.dumps(expected, indent=2, ensure_ascii=False) + "\n"


@FAST
@given(items=st.lists(json_data, max_size=6), other=json_data)
def test_streamed_json_nested_in_runs_is_what_json_dumps_writes(items, other):
    """Items nested as runs[0].results (SARIF's place): same structure and text as json.dumps."""
    document = {"$schema": "s", "runs": [{"tool": {"driver": {"rules": [other]}}, "results": ITEMS}], "z": 1}
    expected = _put(document, items)
    text = _streamed(document, (i for i in items))
    assert json.loads(text) == expected
    assert text == json.dumps(expected, indent=2, ensure_ascii=False) + "\n"


def test_streamed_json_of_plain_data_and_empty_items():
    """Unicode, quotes, floats and nesting are written as json.dumps writes them; no items give []."""
    items = [{"n": 1, "s": 'he said "ü"', "f": 1.5, "nested": {"l": [1, {"x": []}], "d": {}}}, "ü", 2, [], {}]
    document = {"findings": ITEMS, "summary": {"total": 2}}
    assert _streamed(document, items) == json.dumps(_put(document, items), indent=2, ensure_ascii=False) + "\n"
    assert _streamed(document, []) == '{\n  "findings": [],\n  "summary": {\n    "total": 2\n  }\n}\n'
    assert json.loads(_streamed({"runs": [{"results": ITEMS}]}, iter(()))) == {"runs": [{"results": []}]}


def test_streamed_json_without_a_place_for_the_items_raises():
    """A document that holds no ITEMS is a ValueError, not a report without findings."""
    with pytest.raises(ValueError, match="no place for the items"):
        _streamed({"findings": []}, [1])


def test_streamed_json_writes_more_items_than_one_batch():
    """Beyond one write batch (2000 items) the output still is json.dumps's text."""
    items = [{"i": i, "s": f"é{i}"} for i in range(4500)]
    document = {"runs": [{"results": ITEMS}]}
    assert _streamed(document, iter(items)) == json.dumps(_put(document, items), indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------- real audits through the CLI

EXPENSES = 300


def _expenses(ws: Workspace) -> None:
    """300 unapproved expenses of the example contract (each a billing.expense_unapproved), 20
    records of contracts no file defines (+OLD sorts before "-", ZZ-9 after), and 5 lines that
    are no JSON (input.invalid_record naming no contract)."""
    ws.contract()
    rows: list = []
    for i in range(EXPENSES):
        rows.append({"kind": "expense", "id": f"e{i:03d}", "date": "2026-03-02", "amount": 10.5 + i,
                     "currency": "USD", "approved_at": None})
        if i % 30 == 0:
            rows.append({"kind": "expense", "id": f"x{i:03d}", "contract": "ZZ-9" if i % 60 else "+OLD",
                         "date": "2026-03-02", "amount": 1.0, "currency": "USD", "approved_at": None})
        if i % 60 == 7:
            rows.append("{not json")
    ws.records(rows)


def _cli(ws: Workspace, fmt: str):
    return CliRunner().invoke(main, ["audit", "--contracts", str(ws.contract_files[0]),
                                     "--records", str(ws.record_files[0]), "--as-of", EXAMPLE_AS_OF,
                                     "--format", fmt])


def _small_stores(monkeypatch) -> list[FindingStore]:
    """Make every FindingStore made with the default limit hold 7 findings in memory at most, and
    list the stores made. The module constant is patched too, but the default is bound when
    FindingStore.__init__ is defined, so __init__ itself is what makes it take effect."""
    made: list[FindingStore] = []
    original = FindingStore.__init__

    def small(self, limit=None, folder=None):
        original(self, 7 if limit is None else limit, folder)
        made.append(self)

    monkeypatch.setattr(findings_module, "FINDINGS_IN_MEMORY", 7)
    monkeypatch.setattr(FindingStore, "__init__", small)
    return made


@pytest.fixture
def small_stores(monkeypatch) -> list[FindingStore]:
    return _small_stores(monkeypatch)


@pytest.fixture
def expenses_ws(tmp_path) -> Workspace:
    ws = Workspace(tmp_path)
    _expenses(ws)
    return ws


def _sort_key(f: dict) -> tuple:
    return Finding(**{k: f[k] for k in ("rule", "contract", "lob", "record", "source", "message", "clause",
                                        "policy", "period", "plugin", "waiver")}, level=Level.parse(f["level"])
                   ).sort_key()


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_report_of_a_spilling_audit_is_byte_identical_to_the_unspilled_one(expenses_ws, monkeypatch, fmt):
    """With 7 findings in memory per store the report's runs spill to disk, and the json and SARIF
    reports are byte for byte the ones written with everything in memory."""
    reference = _cli(expenses_ws, fmt)
    assert reference.exit_code == 1, reference.output  # error-level findings
    made = _small_stores(monkeypatch)
    spilled = _cli(expenses_ws, fmt)
    assert spilled.exit_code == 1
    assert made and sum(len(store.runs) for store in made) >= 300 // 7
    assert spilled.output == reference.output


def test_json_report_of_many_findings_is_sorted_and_counted(expenses_ws, small_stores):
    """The spilled json report parses, its findings are in sort_key order, and summary.findings
    is their number (300 expenses + 10 unknown contracts + 5 bad lines)."""
    result = _cli(expenses_ws, "json")
    assert result.exit_code == 1
    assert sum(len(store.runs) for store in small_stores) > 1
    report = json.loads(result.output)
    found = report["findings"]
    assert len(found) == report["summary"]["findings"] == EXPENSES + 10 + 5
    assert [_sort_key(f) for f in found] == sorted(_sort_key(f) for f in found)
    assert report["summary"]["by_rule"]["billing.expense_unapproved"]["count"] == EXPENSES
    assert [f["record"] for f in found if f["rule"] == "billing.expense_unapproved"] == [
        f"e{i:03d}" for i in range(EXPENSES)]
    assert [f["contract"] for f in found][:5] == [None] * 5  # no contract sorts first


def test_sarif_report_of_many_findings_validates_and_has_a_result_per_finding(expenses_ws, small_stores):
    """The spilled SARIF log validates against the vendored SARIF 2.1.0 schema and has one result
    per finding, in the json report's order."""
    result = _cli(expenses_ws, "sarif")
    assert result.exit_code == 1
    log = json.loads(result.output)
    validator = jsonschema.validators.validator_for(SARIF_SCHEMA)
    validator(SARIF_SCHEMA, format_checker=validator.FORMAT_CHECKER).validate(log)
    results = log["runs"][0]["results"]
    report = json.loads(_cli(expenses_ws, "json").output)
    assert len(results) == report["summary"]["findings"] == EXPENSES + 15
    assert [r["ruleId"] for r in results] == [f["rule"] for f in report["findings"]]
    assert [r["partialFingerprints"]["csoPolicy/v1"] for r in results] == [
        f["fingerprint"] for f in report["findings"]]


# ---------------------------------------------------------------- JUnit


def _suites(xml: str) -> list[ET.Element]:
    root = ET.fromstring(xml)
    assert root.tag == "testsuites"
    return list(root)


def _check_suites(suites: list[ET.Element]) -> None:
    for suite in suites:
        cases = suite.findall("testcase")
        assert suite.get("tests") == str(len(cases))
        assert suite.get("failures") == str(sum(1 for c in cases if c.find("failure") is not None))
        assert all(c.get("classname") == suite.get("name") for c in cases)
        assert [c.get("name") for c in cases] == sorted(c.get("name") for c in cases)


def test_junit_of_a_real_audit_has_a_suite_per_contract_with_dash_in_its_sorted_place(expenses_ws, small_stores):
    """Findings of no contract go to suite "-", those of contracts no file defines to their own
    suites; the suites are sorted ("+OLD" < "-" < "EX-2026" < "ZZ-9") and their counts agree."""
    result = _cli(expenses_ws, "junit")
    assert result.exit_code == 1
    suites = _suites(result.output)
    names = [s.get("name") for s in suites]
    assert names == ["+OLD", "-", "EX-2026", "ZZ-9"] == sorted(names)
    _check_suites(suites)
    by_name = {s.get("name"): s for s in suites}
    failing = {name: {c.get("name"): c.find("failure").text.count("\n") + 1
                      for c in s.findall("testcase") if c.find("failure") is not None}
               for name, s in by_name.items()}
    assert failing == {"+OLD": {"input.unknown_reference": 5}, "-": {"input.invalid_record": 5},
                       "EX-2026": {"billing.expense_unapproved": EXPENSES}, "ZZ-9": {"input.unknown_reference": 5}}


def test_junit_of_a_report_lists_known_contracts_without_findings_and_unknown_ones_in_order():
    """A Report's contracts without findings still get a (passing) suite; no-contract findings
    land in "-" between contracts sorting below and above it."""
    from cso_policy.core.rule import Rule

    rules = [Rule(id="a.x", title="A", clause="S", level=Level.ERROR), Rule(id="b.y", title="B", clause="S",
                                                                            level=Level.WARNING)]
    found = sorted([_finding(1, contract=None), _finding(2, contract="(early)", rule="b.y"),
                    _finding(3, contract="K-1"), _finding(4, contract=None, rule="b.y"),
                    _finding(5, contract="Z-9", rule="c.z")], key=Finding.sort_key)
    out = io.StringIO()
    write_junit(Report(findings=found, rules=rules, contracts=["M-1", "K-1"]), out)
    suites = _suites(out.getvalue())
    assert [s.get("name") for s in suites] == ["(early)", "-", "K-1", "M-1", "Z-9"]
    _check_suites(suites)
    assert [(s.get("tests"), s.get("failures")) for s in suites] == [
        ("2", "1"), ("2", "2"), ("2", "1"), ("2", "0"), ("3", "1")]


def test_junit_keeps_every_no_contract_finding_around_an_empty_contract_id(tmp_path):
    """Bad lines around a record of contract "": every finding is in some failure of the report."""
    ws = Workspace(tmp_path)
    ws.contract()
    ws.records(["{bad", json.dumps({"kind": "expense", "id": "e1", "contract": "", "date": "2026-03-02",
                                    "amount": 1.0, "currency": "USD", "approved_at": None}), "{bad"])
    report = json.loads(_cli(ws, "json").output)
    assert [f["contract"] for f in report["findings"]] == [None, "", None]
    result = _cli(ws, "junit")
    assert result.exit_code == 1
    failures = [c.find("failure").text for s in _suites(result.output) for c in s.findall("testcase")
                if c.find("failure") is not None]
    assert sum(text.count("\n") + 1 for text in failures) == 3


def test_summary_of_amounts_with_and_without_a_currency_is_written():
    """Amounts of one rule with and without a currency: the summary still adds them up."""
    counts = FindingCounts.of([_finding(1, impact=Impact(amount=5.0)),
                               _finding(2, impact=Impact(amount=2.0, currency="USD"))])
    assert counts.summary()["by_rule"]["a.x"]["count"] == 2
