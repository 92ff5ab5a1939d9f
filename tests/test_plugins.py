"""The plugin API: every hook works as documented, failures are isolated, discovery works."""

from __future__ import annotations

import inspect
import json
import re
import shutil
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from cso_policy import hookspecs
from cso_policy.cli import main
from cso_policy.plugins import DISABLE_AUTOLOAD_ENV, get_plugin_manager, load_local_plugins
from cso_policy.policy.registry import builtin_policy_root

ROOT = Path(__file__).resolve().parent.parent
HOOKS = sorted(name for name in dir(hookspecs) if name.startswith("cso_policy_"))

CONTRACT = """\
id = "NW-2026"
customer = "Northwind Retail"
policy = "{policy}"
term = {{ start = 2026-01-01, end = 2026-12-31 }}
timezone = "America/New_York"

[[packages]]
id = "nw-found"
tier = "foundations"
lines_of_business = ["retail"]
"""


def _work(i: int, day: str, hours: float, service: str = "general_account_consulting") -> str:
    return json.dumps({"kind": "work", "id": f"w{i}", "contract": "NW-2026", "date": day, "lob": "retail",
                       "hours": hours, "service": service})


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """A workspace with one Foundations contract and two records: 2026-01-03 is a Saturday;
    industry_kpi_analysis is '–' for Foundations (Table 2), so w2 is entitlement.not_included."""
    monkeypatch.setenv(DISABLE_AUTOLOAD_ENV, "1")
    (tmp_path / "contracts").mkdir()
    (tmp_path / "contracts" / "nw.toml").write_text(CONTRACT.format(policy="liveperson-cso@1.0"))
    (tmp_path / "records.jsonl").write_text(
        _work(1, "2026-01-03", 2) + "\n" + _work(2, "2026-01-05", 1, "industry_kpi_analysis") + "\n"
    )
    (tmp_path / "cso-policy.toml").write_text('contracts = ["contracts"]\nrecords = ["records.jsonl"]\n')
    return tmp_path


def _plugin(folder: Path, name: str, body: str) -> Path:
    path = folder / f"{name}.py"
    path.write_text("from cso_policy import hookimpl\n" + textwrap.dedent(body))
    return path


WEEKEND_RULE = """
from cso_policy import Level, Violation, rule

@rule("acme.weekend_work", "Work on a weekend", "Addendum B", Level.WARNING, kinds=("work",))
def weekend(record, contract, pool, audit):
    if record.date.weekday() >= 5:
        yield Violation(record=record, message="weekend work")

@hookimpl
def cso_policy_rules():
    return [weekend]
"""


def _audit(args, workspace: Path):
    result = CliRunner().invoke(main, [*args, "audit", str(workspace), "--format", "json"])
    return result, (json.loads(result.stdout) if result.stdout.startswith("{") else None)


# ---------------------------------------------------------------- documentation


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented_with_its_exact_signature(hook):
    spec = getattr(hookspecs, hook)
    signature = f"def {hook}{inspect.signature(spec)}"
    assert signature in (ROOT / "docs" / "plugins.md").read_text()
    assert "Example::" in spec.__doc__ and ("firstresult" in spec.__doc__)


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_test_here(hook):
    source = Path(__file__).read_text()
    assert source.count(f"def {hook}(") >= 1, f"no test plugin implements {hook}"


# ---------------------------------------------------------------- each hook


def test_cso_policy_rules_plugin_rule_reports_and_names_its_plugin(workspace):
    _plugin(workspace, "acme", WEEKEND_RULE)
    result, report = _audit(["--plugin", str(workspace / "acme.py")], workspace)
    found = {(f["rule"], f["record"], f["plugin"]) for f in report["findings"]}
    assert ("acme.weekend_work", "w1", "acme") in found
    assert ("entitlement.not_included", "w2", None) in found
    assert result.exit_code == 1


def test_cso_policy_record_sources_reads_its_own_format(workspace):
    _plugin(workspace, "tsv_source", """
        from cso_policy import RecordSource

        def read(path, options):
            for n, row in enumerate(path.read_text().splitlines(), start=1):
                rid, day, hours = row.split("\\t")
                yield str(path), n, {"kind": "work", "id": rid, "contract": options["contract"], "date": day,
                                     "lob": "retail", "hours": float(hours), "service": "integrations"}

        @hookimpl
        def cso_policy_record_sources():
            return [RecordSource(name="tsv", read=read, suffixes=(".tsv",))]
    """)
    (workspace / "work.tsv").write_text("t1\t2026-02-02\t3\n")
    (workspace / "cso-policy.toml").write_text(
        'contracts = ["contracts"]\nrecords = [{ path = "work.tsv", source = "tsv" }]\n'
        '[plugins]\nload = ["tsv_source.py"]\n[plugins.tsv]\ncontract = "NW-2026"\n'
    )
    result, report = _audit(["--allow-workspace-plugins"], workspace)
    # integrations is '–' for Foundations (Table 4)
    assert [(f["rule"], f["record"], f["source"]) for f in report["findings"]] == [
        ("entitlement.not_included", "t1", f"{workspace / 'work.tsv'}:1")
    ]


TYPED_SOURCE = """
    from typing import Literal

    from attrs import frozen

    from cso_policy import RecordSource

    @frozen(kw_only=True)
    class TsvOptions:
        contract: str = ""
        delimiter: Literal["tab", "comma"] = "tab"
        skip_header: bool = False

        def problems(self, path):
            return [] if self.contract else [("$.contract", "required: the contract the rows belong to")]

    def read(path, options):
        sep = "\\t" if options.delimiter == "tab" else ","
        rows = path.read_text().splitlines()[1 if options.skip_header else 0:]
        for n, row in enumerate(rows, start=2 if options.skip_header else 1):
            rid, day, hours = row.split(sep)
            yield str(path), n, {"kind": "work", "id": rid, "contract": options.contract, "date": day,
                                 "lob": "retail", "hours": float(hours), "service": "integrations"}

    @hookimpl
    def cso_policy_record_sources():
        return [RecordSource(name="acme-tsv", read=read, suffixes=(".tsv",), options=TsvOptions)]
"""


@pytest.mark.parametrize(("records", "table", "message"), [
    ('[{ path = "work.tsv", delimiter = "semicolon", contract = "NW-2026" }]', "",
     "cso-policy.toml $.records[0] (source acme-tsv) $.delimiter: expected one of tab, comma, got 'semicolon'"),
    ('[{ path = "work.tsv" }]', "",
     "cso-policy.toml $.records[0] (source acme-tsv) $.contract: required: the contract the rows belong to"),
    ('["work.tsv"]', '[plugins.acme-tsv]\nskip_header = "yes"',
     "[plugins.acme-tsv] $.skip_header: expected true or false, got 'yes'"),
    ('[{ path = "work.tsv", contract = "NW-2026", colour = "blue" }]', "",
     "cso-policy.toml $.records[0] (source acme-tsv) $: unknown field(s): colour"),
])
def test_a_source_declaring_its_options_gets_them_checked_by_the_core(workspace, records, table, message):
    _plugin(workspace, "typed_source", TYPED_SOURCE)
    (workspace / "work.tsv").write_text("t1,2026-02-02,3\n")
    (workspace / "cso-policy.toml").write_text(
        f'contracts = ["contracts"]\nrecords = {records}\n[plugins]\nload = ["typed_source.py"]\n{table}\n')
    result, _ = _audit(["--allow-workspace-plugins"], workspace)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.splitlines() == ["cso-policy: running workspace plugin typed_source.py",
                                          f"cso-policy: error: {workspace / 'cso-policy.toml'} {message[16:]}"
                                          if message.startswith("cso-policy.toml") else f"cso-policy: error: {message}"]


def test_a_source_declaring_its_options_reads_them_as_an_object(workspace):
    _plugin(workspace, "typed_source", TYPED_SOURCE)
    (workspace / "work.tsv").write_text("id,date,hours\nt1,2026-02-02,3\n")
    (workspace / "cso-policy.toml").write_text(
        'contracts = ["contracts"]\nrecords = [{ path = "work.tsv", delimiter = "comma", skip_header = true }]\n'
        '[plugins]\nload = ["typed_source.py"]\n[plugins.acme-tsv]\ncontract = "NW-2026"\n')
    result, report = _audit(["--allow-workspace-plugins"], workspace)
    # integrations is '–' for Foundations (Table 4); the header row is skipped, so t1 is line 2
    assert [(f["rule"], f["record"], f["source"]) for f in report["findings"]] == [
        ("entitlement.not_included", "t1", f"{workspace / 'work.tsv'}:2")]


def test_cso_policy_report_formats_adds_a_format(workspace):
    _plugin(workspace, "tsvfmt", """
        from cso_policy import ReportFormat

        def write(report, stream):
            for f in report.findings:
                stream.write(f"{f.rule}\\t{f.record}\\n")

        @hookimpl
        def cso_policy_report_formats():
            return [ReportFormat(name="tsv", write=write)]
    """)
    result = CliRunner().invoke(main, ["--plugin", str(workspace / "tsvfmt.py"), "audit", str(workspace), "--format", "tsv"])
    assert result.exit_code == 1
    assert result.output == "entitlement.not_included\tw2\n"


def _ship_policy(shipped: Path, modules: dict[str, str] | None = None) -> Path:
    """acme-terms@2.0 under *shipped*: a copy of liveperson-cso@1.0 (unlocked: the LOCK is only
    at the root of the bundled folder) plus *modules* (name -> TOML text) listed in its manifest."""
    version = shipped / "acme-terms" / "2.0"
    shutil.copytree(builtin_policy_root() / "liveperson-cso" / "1.0", version)
    manifest = version / "manifest.toml"
    text = manifest.read_text().replace('id = "liveperson-cso"', 'id = "acme-terms"').replace('version = "1.0"', 'version = "2.0"')
    for name, tables in (modules or {}).items():
        assert '"expansion"]' in text
        text = text.replace('"expansion"]', f'"expansion", "{name}"]')
        (version / f"{name}.toml").write_text(tables)
    manifest.write_text(text)
    return version


def test_cso_policy_policy_paths_ships_a_policy_version(workspace):
    shipped = workspace / "shipped"
    _ship_policy(shipped)
    _plugin(workspace, "acme_policies", f"""
        from pathlib import Path

        @hookimpl
        def cso_policy_policy_paths():
            return [Path({str(shipped)!r})]
    """)
    (workspace / "contracts" / "nw.toml").write_text(CONTRACT.format(policy="acme-terms@2.0"))
    result, report = _audit(["--plugin", str(workspace / "acme_policies.py")], workspace)
    assert {f["policy"] for f in report["findings"]} == {"acme-terms@2.0"}


def test_cso_policy_configure_problem_stops_with_exit_2(workspace):
    _plugin(workspace, "strict", """
        @hookimpl
        def cso_policy_configure(options, root):
            return [] if "strict" in options else ["[plugins.strict] is required"]
    """)
    result = CliRunner().invoke(main, ["--plugin", str(workspace / "strict.py"), "audit", str(workspace)])
    assert result.exit_code == 2
    assert "[plugins.strict] is required" in result.output


def test_cso_policy_adjust_finding_suppresses_and_replaces(workspace):
    _plugin(workspace, "acme", WEEKEND_RULE)
    _plugin(workspace, "adjust", """
        import attrs
        from cso_policy import Level

        @hookimpl
        def cso_policy_adjust_finding(finding, audit):
            if finding.rule == "acme.weekend_work":
                return False
            if finding.rule == "entitlement.not_included":
                return attrs.evolve(finding, level=Level.INFO)
            return None
    """)
    result, report = _audit(["-p", str(workspace / "acme.py"), "-p", str(workspace / "adjust.py")], workspace)
    assert [(f["rule"], f["level"]) for f in report["findings"]] == [("entitlement.not_included", "info")]
    assert result.exit_code == 0  # nothing at or above error remains


# A record kind of a plugin's own: trainings given to a line of business. ``observe`` counts
# the attendees of each package in ``pool.state`` before any rule sees the record.
TRAINING_KIND = """
from datetime import date

from attrs import define
from cso_policy import Level, Record, RecordKind, Violation, rule

@define(kw_only=True)
class Training(Record):
    date: date
    lob: str
    attendees: int
    kind = "training"

def observe(record, contract, pool):
    pool.state["acme"] = pool.state.get("acme", 0) + record.attendees

@hookimpl
def cso_policy_record_kinds():
    return [RecordKind(name="training", cls=Training, dated_by="date", observe=observe,
                       description="a training session and its attendees")]
"""

SEATS_RULE = """
@rule("acme.training_seats", "More than 20 training attendees in the term", "Addendum T", Level.WARNING,
      kinds=("training",))
def seats(record, contract, pool, audit):
    if pool.state["acme"] > 20:
        yield Violation(record=record, message=f"{pool.state['acme']} attendees so far (20 seats)")

@hookimpl
def cso_policy_rules():
    return [seats]
"""


def _training(i: int, day: str, attendees) -> str:
    return json.dumps({"kind": "training", "id": f"t{i}", "contract": "NW-2026", "date": day, "lob": "retail",
                       "attendees": attendees})


def _with_trainings(workspace: Path, *lines: str) -> Path:
    path = workspace / "training.jsonl"
    path.write_text("".join(line + "\n" for line in lines))
    (workspace / "cso-policy.toml").write_text('contracts = ["contracts"]\nrecords = ["records.jsonl", "training.jsonl"]\n')
    return path


def test_cso_policy_record_kinds_adds_a_kind_its_running_state_and_rules_over_it(workspace):
    # 12 attendees on 02-02, 9 more on 03-02: the second training takes the package to 21
    _plugin(workspace, "acme_training", TRAINING_KIND + SEATS_RULE)
    _with_trainings(workspace, _training(1, "2026-02-02", 12), _training(2, "2026-03-02", 9))
    result, report = _audit(["--plugin", str(workspace / "acme_training.py")], workspace)
    assert result.exit_code == 1  # entitlement.not_included on w2 is an error
    assert sorted((f["rule"], f["record"]) for f in report["findings"]) == [
        ("acme.training_seats", "t2"), ("entitlement.not_included", "w2")]
    [seats] = [f for f in report["findings"] if f["rule"] == "acme.training_seats"]
    assert (seats["message"], seats["source"], seats["lob"], seats["level"], seats["plugin"]) == (
        "21 attendees so far (20 seats)", f"{workspace / 'training.jsonl'}:2", "retail", "warning", "acme_training")
    assert report["summary"]["records_by_kind"] == {"work": 2, "training": 2}


def test_cso_policy_record_kinds_a_record_of_the_wrong_type_is_an_invalid_record(workspace):
    _plugin(workspace, "acme_training", TRAINING_KIND + SEATS_RULE)
    path = _with_trainings(workspace, _training(1, "2026-02-02", 12), _training(2, "2026-03-02", "nine"))
    result, report = _audit(["--plugin", str(workspace / "acme_training.py")], workspace)
    assert result.exit_code == 1
    assert [(f["record"], f["message"]) for f in report["findings"] if f["rule"] == "input.invalid_record"] == [
        (None, f"{path}:2 $.attendees: expected an integer, got 'nine'")
    ]
    # t2 never reached the kind's observer nor the rule: 12 attendees, no acme finding
    assert not [f for f in report["findings"] if f["rule"] == "acme.training_seats"]
    assert report["summary"]["records_by_kind"] == {"work": 2, "training": 1}


# A policy module of a plugin's own: ``training.toml`` of a policy version the plugin ships.
TRAINING_MODULE = """
from pathlib import Path

from attrs import frozen
from cso_policy import PolicyModule, TermsError

@frozen
class TrainingTerms:
    seats: int

def load(tables, policy):
    seats = tables.get("seats")
    if type(seats) is not int or seats <= 0:
        raise TermsError("$.seats", f"expected a number of seats above 0, got {seats!r}")
    return TrainingTerms(seats=seats)

@rule("acme.training_seats", "More attendees than the policy's training seats", "Training addendum", Level.WARNING,
      kinds=("training",))
def seats(record, contract, pool, audit):
    terms = contract.policy.terms("training")  # None under a policy without the module
    if terms is not None and record.attendees > terms.seats:
        yield Violation(record=record, message=f"{record.attendees} attendees, {terms.seats} seats ({contract.policy_ref})")

@hookimpl
def cso_policy_policy_paths():
    return [Path(__file__).parent / "shipped"]

@hookimpl
def cso_policy_policy_modules():
    return [PolicyModule(name="training", load=load)]

@hookimpl
def cso_policy_rules():
    return [seats]
"""


def test_cso_policy_policy_modules_reads_its_tables_for_its_rules(workspace):
    _ship_policy(workspace / "shipped", {"training": "# Acme training addendum\nseats = 10\n"})
    _plugin(workspace, "acme_terms", TRAINING_KIND + TRAINING_MODULE)
    (workspace / "contracts" / "nw.toml").write_text(CONTRACT.format(policy="acme-terms@2.0"))
    _with_trainings(workspace, _training(1, "2026-02-02", 12), _training(2, "2026-03-02", 9))
    result, report = _audit(["--plugin", str(workspace / "acme_terms.py")], workspace)
    assert result.exit_code == 1, result.output
    assert [(f["record"], f["message"], f["policy"]) for f in report["findings"] if f["rule"] == "acme.training_seats"] == [
        ("t1", "12 attendees, 10 seats (acme-terms@2.0)", "acme-terms@2.0")
    ]


def test_cso_policy_policy_modules_a_bad_table_stops_with_the_file_and_field_path(workspace):
    version = _ship_policy(workspace / "shipped", {"training": "seats = 0\n"})
    _plugin(workspace, "acme_terms", TRAINING_KIND + TRAINING_MODULE)
    (workspace / "contracts" / "nw.toml").write_text(CONTRACT.format(policy="acme-terms@2.0"))
    result = CliRunner().invoke(main, ["--plugin", str(workspace / "acme_terms.py"), "audit", str(workspace)])
    assert result.exit_code == 2
    assert result.stdout == ""
    # one line: the contract pinning the version, the module's file and the field path
    assert result.stderr == (
        f"cso-policy: error: {workspace / 'contracts' / 'nw.toml'} $.policy: "
        f"{version / 'training.toml'} $.seats: expected a number of seats above 0, got 0\n"
    )


def test_cso_policy_lint_rules_and_lint_contract_report_at_the_key(workspace):
    _plugin(workspace, "acme_lint", """
        from cso_policy import Level, LintProblem, LintRule

        @hookimpl
        def cso_policy_lint_rules():
            return [LintRule(id="contract.acme_no_foundations", level=Level.ERROR,
                             title="Acme no longer sells Foundations packages", clause="Acme sales playbook")]

        @hookimpl
        def cso_policy_lint_contract(contract, policy):
            if policy is None:
                return []
            return [LintProblem(rule="contract.acme_no_foundations", path=f"$.packages[{i}].tier",
                                message=f"package {p.id} is {policy.resolve_tier(p.tier)}")
                    for i, p in enumerate(contract.packages) if policy.resolve_tier(p.tier) == "foundations"]
    """)
    contract = workspace / "contracts" / "nw.toml"
    result = CliRunner().invoke(main, ["--plugin", str(workspace / "acme_lint.py"), "lint", str(contract)])
    assert result.exit_code == 1  # the plugin's rule is an error
    # tier is line 9 of CONTRACT
    assert result.output == (
        f"{contract}:9:1: contract.acme_no_foundations package nw-found is foundations\n1 error(s), 0 warning(s)\n"
    )
    clean = CliRunner().invoke(main, ["lint", str(contract)])
    assert (clean.exit_code, clean.output) == (0, "1 file checked, no problems\n")


def test_lint_says_on_stderr_which_plugin_failed_and_lints_on(workspace):
    _plugin(workspace, "acme_lint_bug", """
        @hookimpl
        def cso_policy_lint_contract(contract, policy):
            raise KeyError("owner")
    """)
    contract = workspace / "contracts" / "nw.toml"
    result = CliRunner().invoke(main, ["--plugin", str(workspace / "acme_lint_bug.py"), "lint", str(contract)])
    assert (result.exit_code, result.stdout) == (0, "1 file checked, no problems\n")  # the built-in checks ran
    assert result.stderr == ("cso-policy: warning: plugin acme_lint_bug: cso_policy_lint_contract failed: "
                             "KeyError: 'owner'\n")


def test_cso_policy_entitlements_shows_the_plugin_section_in_text_and_json(workspace):
    _plugin(workspace, "acme_training", TRAINING_KIND + textwrap.dedent("""
        from cso_policy import EntitlementSection

        @hookimpl
        def cso_policy_entitlements(pool, moment):
            held = pool.state.get("acme", 0)
            return [EntitlementSection(key="acme_training", data={"attendees": held},
                                       text=[f"  training attendees so far: {held} of 20 seats"])]
    """))
    records = _with_trainings(workspace, _training(1, "2026-02-02", 12), _training(2, "2026-03-02", 9))
    args = ["--plugin", str(workspace / "acme_training.py"), "entitlements", str(workspace / "contracts" / "nw.toml"),
            "--records", str(records), "--as-of", "2026-02-15T00:00:00Z"]  # t2 comes after the as-of day
    text = CliRunner().invoke(main, args)
    assert text.exit_code == 0, text.output
    lines = text.output.splitlines()
    assert "  training attendees so far: 12 of 20 seats" in lines
    assert lines.index("  training attendees so far: 12 of 20 seats") > lines.index(
        "package nw-found: foundations; lines of business: retail")
    as_json = CliRunner().invoke(main, [*args, "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    package = json.loads(as_json.output)["packages"][0]
    assert package["acme_training"] == {"attendees": 12}
    assert "hours" in package  # the built-in domains' sections are still there


def test_cso_policy_explain_terms_adds_lines_under_terms_that_applied(workspace):
    _plugin(workspace, "acme_explain", """
        @hookimpl
        def cso_policy_explain_terms(contract, pool):
            if pool is None:
                return []
            return [f"Acme addendum B for {contract.contract.customer}: weekend work on package {pool.id} needs approval"]
    """)
    result = CliRunner().invoke(main, ["--plugin", str(workspace / "acme_explain.py"), "explain",
                                       "entitlement.not_included", str(workspace)])
    assert result.exit_code == 0, result.output
    terms = result.output.split("  terms that applied:\n")[1].split("  finding:")[0].splitlines()
    assert terms[-1] == "    Acme addendum B for Northwind Retail: weekend work on package nw-found needs approval"
    assert terms[0].startswith("    contract NW-2026 (Northwind Retail)")


def test_cso_policy_report_sections_adds_a_summary_section(workspace):
    _plugin(workspace, "acme_summary", """
        @hookimpl
        def cso_policy_report_sections(audit):
            return {"acme": {"contracts": sorted(audit.contracts), "work_records": audit.by_kind["work"]}}
    """)
    result, report = _audit(["--plugin", str(workspace / "acme_summary.py")], workspace)
    assert result.exit_code == 1
    assert report["summary"]["acme"] == {"contracts": ["NW-2026"], "work_records": 2}
    assert "hours" in report["summary"]  # merged with the built-in domains' sections


def test_report_sections_hook_that_raises_is_a_plugin_error_and_the_report_is_written(workspace):
    _plugin(workspace, "acme_summary_bug", """
        @hookimpl
        def cso_policy_report_sections(audit):
            return {"acme": 1 / 0}
    """)
    result, report = _audit(["--plugin", str(workspace / "acme_summary_bug.py")], workspace)
    assert result.exit_code == 1 and "Traceback" not in result.output
    errors = [f["message"] for f in report["findings"] if f["rule"] == "plugin.error"]
    assert errors == ["plugin acme_summary_bug: cso_policy_report_sections failed: ZeroDivisionError: division by zero"]
    assert "acme" not in report["summary"] and "hours" in report["summary"]


# ---------------------------------------------------------------- failures are isolated


FLAKY_SOURCE = """
    from cso_policy import Incomplete, LeftOut, RecordSource

    def read(path, options):
        for n, row in enumerate(path.read_text().splitlines(), start=1):
            if row == "boom":
                raise ConnectionError("connection reset by peer")
            if row == "cancelled":
                yield str(path), n, LeftOut("cancelled incident")
                continue
            if row.startswith("truncated"):
                yield str(path), n, Incomplete({"kind": "ticket", "id": row.split()[1], "contract": "NW-2026",
                                                "lob": "retail"}, "the changelog has 40 of 52 entries")
                continue
            rid, day, hours = row.split("\\t")
            yield str(path), n, {"kind": "work", "id": rid, "contract": "NW-2026", "date": day,
                                 "lob": "retail", "hours": float(hours), "service": "integrations"}

    @hookimpl
    def cso_policy_record_sources():
        return [RecordSource(name="flaky", read=read, suffixes=(".tsv",))]
"""


def test_a_source_failing_mid_stream_loses_only_its_own_records(workspace):
    # flaky.tsv delivers t1 and t2, then the connection breaks: t3 is lost, and said so; the
    # JSON Lines file after it is audited in full (w2 is integrations, '–' for Foundations)
    _plugin(workspace, "flaky_source", FLAKY_SOURCE)
    (workspace / "flaky.tsv").write_text("t1\t2026-02-02\t3\nt2\t2026-02-03\t1\nboom\nt3\t2026-02-04\t2\n")
    (workspace / "cso-policy.toml").write_text(
        'contracts = ["contracts"]\nrecords = ["flaky.tsv", "records.jsonl"]\nplugins = ["flaky_source.py"]\n')
    result, report = _audit(["--allow-workspace-plugins"], workspace)
    assert result.exit_code == 1
    errors = [f for f in report["findings"] if f["rule"] == "plugin.error"]
    assert [(f["plugin"], f["message"]) for f in errors] == [(
        "flaky_source", f"plugin flaky_source: record source flaky failed reading {workspace / 'flaky.tsv'} after "
        "2 record(s): ConnectionError: connection reset by peer; its other records were not read")]
    not_included = sorted(f["record"] for f in report["findings"] if f["rule"] == "entitlement.not_included")
    assert not_included == ["t1", "t2", "w2"]
    inputs = {Path(i["input"]).name: i for i in report["summary"]["inputs"]}
    assert (inputs["flaky.tsv"]["read"], inputs["flaky.tsv"]["failed"]) == (2, "ConnectionError: connection reset by peer")
    assert inputs["records.jsonl"]["read"] == inputs["records.jsonl"]["counted"] == 2


def test_records_a_source_leaves_out_on_purpose_are_counted_with_the_reason(workspace):
    _plugin(workspace, "flaky_source", FLAKY_SOURCE)
    (workspace / "flaky.tsv").write_text("cancelled\nt1\t2026-02-02\t3\ncancelled\n")
    (workspace / "cso-policy.toml").write_text(
        'contracts = ["contracts"]\nrecords = ["flaky.tsv"]\nplugins = ["flaky_source.py"]\n')
    result, report = _audit(["--allow-workspace-plugins"], workspace)
    (counts,) = report["summary"]["inputs"]
    assert (counts["read"], counts["counted"], counts["left_out"]) == (3, 1, 2)
    assert counts["left_out_reasons"] == {"cancelled incident": 2}


def test_a_record_a_source_cannot_give_in_full_is_an_incomplete_record_and_not_audited(workspace):
    _plugin(workspace, "flaky_source", FLAKY_SOURCE)
    (workspace / "flaky.tsv").write_text("truncated SUP-1\nt1\t2026-02-02\t3\n")
    (workspace / "cso-policy.toml").write_text(
        'contracts = ["contracts"]\nrecords = ["flaky.tsv"]\nplugins = ["flaky_source.py"]\n')
    result, report = _audit(["--allow-workspace-plugins"], workspace)
    found = [f for f in report["findings"] if f["rule"] == "input.incomplete_record"]
    assert [(f["record"], f["level"], f["lob"]) for f in found] == [("SUP-1", "warning", "retail")]
    assert found[0]["message"].endswith("flaky.tsv:1 ticket SUP-1: the changelog has 40 of 52 entries; "
                                        "not audited, since any result would be a guess")
    (counts,) = report["summary"]["inputs"]
    assert (counts["read"], counts["incomplete"], counts["counted"]) == (2, 1, 1)


def test_a_report_format_that_raises_is_one_line_exit_2_and_no_file(workspace):
    _plugin(workspace, "bad_format", """
        from cso_policy import ReportFormat

        def write(report, stream):
            stream.write("half a report\\n")
            raise ValueError("no more ink")

        @hookimpl
        def cso_policy_report_formats():
            return [ReportFormat(name="broken", write=write, extension="txt")]
    """)
    out = workspace / "report.txt"
    result = CliRunner().invoke(main, ["--plugin", str(workspace / "bad_format.py"), "audit", str(workspace),
                                       "--format", "broken", "--output", str(out)])
    assert result.exit_code == 2
    assert result.stderr == "cso-policy: error: writing the broken report failed: ValueError: no more ink\n"
    assert not out.exists() and not list(workspace.glob(".cso-policy-*"))
    several = CliRunner().invoke(main, ["--plugin", str(workspace / "bad_format.py"), "audit", str(workspace),
                                        "--format", "json", "--format", "broken", "--output-dir", str(workspace / "out")])
    assert several.exit_code == 2 and list((workspace / "out").iterdir()) == []  # not even the json one



def test_plugin_that_fails_to_import_is_reported_and_other_findings_kept(workspace):
    _plugin(workspace, "broken", "raise RuntimeError('missing licence key')\n")
    result, report = _audit(["--plugin", str(workspace / "broken.py")], workspace)
    rules = [(f["rule"], f["message"]) for f in report["findings"]]
    assert ("plugin.error", "plugin broken: import failed: RuntimeError: missing licence key") in rules
    assert any(rule == "entitlement.not_included" for rule, _ in rules)


def test_misspelled_hook_is_a_plugin_error_and_the_plugin_is_left_out(workspace):
    # cso_policy_rule for cso_policy_rules: pluggy's check_pending finds it; the whole plugin is
    # unregistered, so not even its correctly named hooks half-run
    _plugin(workspace, "typo", WEEKEND_RULE + """
@hookimpl
def cso_policy_rule():
    return [weekend]
""")
    result, report = _audit(["--plugin", str(workspace / "typo.py")], workspace)
    assert result.exit_code == 1
    errors = [f["message"] for f in report["findings"] if f["rule"] == "plugin.error"]
    assert len(errors) == 1
    assert errors == ["plugin typo: hooks failed: cso_policy_rule is not a hook (did you mean cso_policy_rules?); "
                      "the plugin was left out"]
    assert not [f for f in report["findings"] if f["rule"] == "acme.weekend_work"]
    assert ("entitlement.not_included", "w2") in {(f["rule"], f["record"]) for f in report["findings"]}

def test_hook_function_without_hookimpl_is_a_plugin_error(workspace):
    # pluggy never sees an unmarked function: without this check the rule would silently not run
    _plugin(workspace, "unmarked", WEEKEND_RULE.replace("@hookimpl\ndef cso_policy_rules", "def cso_policy_rules"))
    result, report = _audit(["--plugin", str(workspace / "unmarked.py")], workspace)
    assert result.exit_code == 1
    errors = [f["message"] for f in report["findings"] if f["rule"] == "plugin.error"]
    assert errors == ["plugin unmarked: hooks failed: cso_policy_rules is not marked @hookimpl, so it would never "
                      "be called; the plugin was left out"]
    assert ("entitlement.not_included", "w2") in {(f["rule"], f["record"]) for f in report["findings"]}


def test_rule_that_raises_is_reported_for_each_record_and_runs_on(workspace):
    _plugin(workspace, "buggy", """
        from cso_policy import Level, rule

        @rule("buggy.crash", "Crashes", "-", Level.ERROR, kinds=("work",))
        def crash(record, contract, pool, audit):
            raise KeyError("hours_per_day")

        @hookimpl
        def cso_policy_rules():
            return [crash]
    """)
    result, report = _audit(["--plugin", str(workspace / "buggy.py")], workspace)
    errors = [f for f in report["findings"] if f["rule"] == "plugin.error"]
    # one per work record it raised on: a record it cannot check never switches it off for the others
    assert [(f["record"], f["contract"]) for f in errors] == [(None, "NW-2026"), (None, "NW-2026")]
    assert all("plugin buggy: rule buggy.crash check raised KeyError: 'hours_per_day' at record w" in f["message"]
               and f["message"].endswith("that record was not checked by it") for f in errors)
    assert any(f["rule"] == "entitlement.not_included" for f in report["findings"])


GATED_RULES = """
from cso_policy import Level, Violation, rule

def long_entry(record, contract, pool, audit):
    GATE_BODY

@rule("acme.long_a", "Long entry A", "-", Level.INFO, kinds=("work",), gate=long_entry)
def long_a(record, contract, pool, audit):
    yield Violation(record=record, message="a")

@rule("acme.long_b", "Long entry B", "-", Level.INFO, kinds=("work",), gate=long_entry)
def long_b(record, contract, pool, audit):
    yield Violation(record=record, message="b")

@rule("acme.gate_calls", "Gate calls", "-", Level.INFO, finish=True)
def gate_calls(audit):
    yield Violation(message=f"gate called {audit.state.get('gate_calls', 0)} times")

@hookimpl
def cso_policy_rules():
    return [long_a, long_b, gate_calls]
"""


COUNTING_GATE = 'audit.state["gate_calls"] = audit.state.get("gate_calls", 0) + 1; return record.hours >= 2'


def test_rules_sharing_a_gate_run_only_when_it_opens_and_it_runs_once_per_record(workspace):
    # w1 is 2 h, w2 is 1 h: the gate is asked once for each record (2 calls, not 4) and only
    # w1 reaches the two rules behind it.
    _plugin(workspace, "gated", GATED_RULES.replace("GATE_BODY", COUNTING_GATE))
    result, report = _audit(["--plugin", str(workspace / "gated.py")], workspace)
    assert result.exit_code == 1, result.output
    found = sorted((f["rule"], f["record"]) for f in report["findings"] if f["rule"].startswith("acme."))
    assert found == [("acme.gate_calls", None), ("acme.long_a", "w1"), ("acme.long_b", "w1")]
    assert [f["message"] for f in report["findings"] if f["rule"] == "acme.gate_calls"] == ["gate called 2 times"]


def test_gate_that_raises_is_reported_for_each_of_its_rules_and_each_record(workspace):
    _plugin(workspace, "badgate", GATED_RULES.replace("GATE_BODY", 'raise KeyError("hours")'))
    result, report = _audit(["--plugin", str(workspace / "badgate.py")], workspace)
    errors = sorted(f["message"] for f in report["findings"] if f["rule"] == "plugin.error")
    records = workspace / "records.jsonl"
    assert errors == [
        f"plugin badgate: rule acme.{rule} gate raised KeyError: 'hours' at record {record} ({records}:{line}); "
        "that record was not checked by it"
        for rule in ("long_a", "long_b") for record, line in (("w1", 1), ("w2", 2))
    ]
    assert any(f["rule"] == "entitlement.not_included" for f in report["findings"])


def test_a_gate_needs_a_check_to_guard():
    from cso_policy import Level, Rule

    with pytest.raises(ValueError, match="rule acme.x: a gate decides whether the per-record check runs"):
        Rule(id="acme.x", title="x", clause="-", level=Level.INFO, finish=lambda audit: (), gate=lambda *a: True)


def test_hook_that_raises_is_reported(workspace):
    _plugin(workspace, "badhook", """
        @hookimpl
        def cso_policy_rules():
            raise ValueError("no rules today")
    """)
    result, report = _audit(["--plugin", str(workspace / "badhook.py")], workspace)
    assert "plugin badhook: cso_policy_rules failed: ValueError: no rules today" in [f["message"] for f in report["findings"]]


# ---------------------------------------------------------------- discovery


def test_workspace_plugins_list_loads_local_plugin(workspace):
    _plugin(workspace, "acme", WEEKEND_RULE)
    (workspace / "cso-policy.toml").write_text(
        'contracts = ["contracts"]\nrecords = ["records.jsonl"]\nplugins = ["acme.py"]\n'
    )
    result, report = _audit(["--allow-workspace-plugins"], workspace)
    assert any(f["rule"] == "acme.weekend_work" for f in report["findings"])


def test_entry_point_plugin_loads_unless_autoload_disabled(monkeypatch):
    pytest.importorskip("cso_policy_example_rule")  # installed by .ci/run and the README command
    monkeypatch.delenv(DISABLE_AUTOLOAD_ENV, raising=False)
    assert "addendum.long_entry" in CliRunner().invoke(main, ["rules"]).output
    monkeypatch.setenv(DISABLE_AUTOLOAD_ENV, "1")
    assert "addendum.long_entry" not in CliRunner().invoke(main, ["rules"]).output


def test_plugins_command_lists_origin_hooks_and_rules(workspace):
    _plugin(workspace, "acme", WEEKEND_RULE)
    result = CliRunner().invoke(main, ["--plugin", str(workspace / "acme.py"), "plugins"])
    assert result.exit_code == 0
    block = result.output[result.output.index("acme ("):]
    assert re.search(r"acme \(.*acme\.py\)\n  hooks: cso_policy_rules\n  rule acme.weekend_work", block)


def test_fresh_managers_do_not_share_plugins(tmp_path):
    _plugin(tmp_path, "acme", WEEKEND_RULE)
    first = get_plugin_manager()
    load_local_plugins(first, [str(tmp_path / "acme.py")])
    assert first.has_plugin("acme")
    assert not get_plugin_manager().has_plugin("acme")
