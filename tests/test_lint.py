"""`cso-policy lint` (issue 5): every contract.* and policy.* check, output formats, LOCK.

Each check gets a failing file and a passing file, linted through the real CLI
(click's CliRunner) in a tree of files under pyfakefs. The fake file system shows
the real bundled policies/ folder, the cso_policy package, tzdata/zoneinfo and the
holidays package (found from their modules), so the checks see the same data as
on disk. Policy checks work on a writable in-memory copy of policies/: nothing is
written to the real folder.

The good contract is the one of SPEC §2 (NW-2026, expert, renewal of NW-2025, an
intermediate expansion purchase on the renewal's first day). Numbers come from the
seed: Section 1 hours per quarter / per year.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import holidays
import jsonschema
import pytest
from click.testing import CliRunner

import cso_policy
import cso_policy.cli as cli
from cso_policy.core.convert import converter
from cso_policy.plugins import DISABLE_AUTOLOAD_ENV
from tests.conftest import catalogue
from cso_policy.policy.registry import builtin_policy_root

REPO = Path(__file__).resolve().parents[1]
POLICY_ROOT = builtin_policy_root()
SARIF_SCHEMA = json.loads((Path(__file__).parent / "schemas" / "sarif-2.1.0.json").read_text(encoding="utf-8"))

# cattrs registers pathlib.Path when a Converter is built; under pyfakefs that name is
# a fake module object, so the (cached) converter must exist before any fake fs does.
converter()

# SPEC §2's contract, verbatim. Line numbers below refer to this text.
GOOD = """\
id = "NW-2026"
customer = "Northwind Retail"
policy = "liveperson-cso@1.0"
term = { start = 2026-01-01, end = 2026-12-31 }
renewal_of = "NW-2025"            # optional
timezone = "America/New_York"
holidays = "US"                   # optional country code
overage = { rate = 240.0, currency = "USD", agreement = "SOW-114" }   # optional

[[packages]]
id = "nw-expert"
tier = "expert"
lines_of_business = ["retail", "outlet"]

[[expansion_purchases]]           # optional, renewal only
package = "nw-expert"
kind = "intermediate"
hours = 40
purchased_on = 2026-01-01
"""

SECOND_PACKAGE = """
[[packages]]
id = "{id}"
tier = "premier"
lines_of_business = [{lobs}]
"""  # appended after line 19: its header is line 21, id line 22, lines_of_business line 24


def edit(text: str, old: str, new: str) -> str:
    """*text* with the single occurrence of *old* replaced (fails if it is not there exactly once)."""
    assert text.count(old) == 1, old
    return text.replace(old, new)


def line_of(text: str, start: str) -> int:
    """1-based number of the first line of *text* that starts with *start*."""
    return next(n for n, line in enumerate(text.splitlines(), 1) if line.startswith(start))


# ------------------------------------------------------------------ fixtures


# every module of the command line that builds click.Path options, then the group that adds them
CLI_MODULES = [importlib.import_module(f"cso_policy.cli.{name}") for name in (
    "run", "audit", "explain", "rules", "entitlements", "policies", "lint", "plugins")] + [cli]


def pytest_generate_tests(metafunc):
    """Every test on the fake fs reloads cso_policy.cli there: its click.Path(path_type=Path)
    options hold the real pathlib.Path class, which cannot be built while pyfakefs patches
    pathlib. Tests therefore call ``cli.main`` (looked up after the reload), never a saved ``main``."""
    if "fs" in metafunc.fixturenames:
        metafunc.parametrize("fs", [[None, CLI_MODULES]], indirect=True, ids=["fakefs"])


def expose_real_dirs(fs) -> None:
    """Make the data the checks read visible (read-only) in the fake file system."""
    dirs = [POLICY_ROOT, Path(cso_policy.__file__).resolve().parent, Path(holidays.__file__).resolve().parent,
            Path(str(importlib.resources.files("tzdata")))]
    dirs += [Path(p) for p in ("/usr/share/zoneinfo", "/usr/lib/python3/dist-packages/tzdata") if Path(p).is_dir()]
    for folder in sorted(dirs, key=lambda p: len(p.parts)):
        if not fs.exists(str(folder)):
            fs.add_real_directory(str(folder))


@pytest.fixture
def tree(fs, monkeypatch):
    """A fake file system with the real data folders; entry-point plugins are not loaded
    (their metadata lives in site-packages, which the fake fs does not show)."""
    monkeypatch.setenv(DISABLE_AUTOLOAD_ENV, "1")
    expose_real_dirs(fs)
    fs.create_dir("/tree")
    os.chdir("/tree")  # the fake fs's cwd; the fs fixture undoes it
    return fs


@pytest.fixture
def policies(tree) -> Path:
    """A writable in-memory copy of the bundled policies/ at /tree/policies holding
    liveperson-cso@1.0 only (later bundled versions are left out: the tests add their own),
    unlocked (without the repository's LOCK) so that tests may edit it; the LOCK tests lock it
    themselves."""
    tree.add_real_directory(str(POLICY_ROOT / VERSION), target_path=f"/tree/policies/{VERSION.as_posix()}",
                            read_only=False)
    return Path("/tree/policies")


VERSION = Path("liveperson-cso/1.0")


def lint(*args: str):
    return CliRunner().invoke(cli.main, ["lint", *args])


def write(path: str | Path, text: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------ contract checks


@dataclass
class Case:
    rule: str
    bad: str
    good: str
    names: list[str]  # what the message must name (the offending value)
    where: str | None = None  # line:col the text output must show, where a line is found


CONTRACT_CASES = [
    Case("contract.invalid_toml", edit(GOOD, 'tier = "expert"', 'tier = "expert'), GOOD,
         # tomllib reports the unterminated string at the end of line 12
         ["invalid TOML", "Illegal character", "at line 12"], "12:15"),
    Case("contract.schema", edit(GOOD, "hours = 40", 'hours = "40"'), GOOD,
         ["$.expansion_purchases[0].hours", "expected a number, got '40'"], "18:1"),
    Case("contract.unknown_tier", edit(GOOD, 'tier = "expert"', 'tier = "Premeir"'),
         # "Fundamental" is the seed's own spelling in Section 1: an alias of fundamentals,
         # whose Table 9 pack is basic (so the purchase kind changes with it)
         edit(edit(GOOD, 'tier = "expert"', 'tier = "Fundamental"'), 'kind = "intermediate"', 'kind = "basic"'),
         ["unknown tier 'Premeir'", "did you mean 'premier'?"], "12:1"),
    Case("contract.unknown_policy", edit(GOOD, "liveperson-cso@1.0", "liveperson-cso@9.9"), GOOD,
         ["unknown policy 'liveperson-cso@9.9'", "liveperson-cso@1.0"], "3:1"),
    Case("contract.lob_in_two_packages", GOOD + SECOND_PACKAGE.format(id="nw-outlet", lobs='"outlet"'),
         GOOD + SECOND_PACKAGE.format(id="nw-outlet", lobs='"outlet-2"'),
         ["line of business 'outlet'", "'nw-expert' and 'nw-outlet'"], "24:1"),
    Case("contract.package_without_lobs", edit(GOOD, '["retail", "outlet"]', "[]"),
         edit(GOOD, '["retail", "outlet"]', '["retail"]'),
         ["package 'nw-expert' lists no lines of business"], "13:1"),
    Case("contract.duplicate_package", GOOD + SECOND_PACKAGE.format(id="nw-expert", lobs='"careers"'),
         GOOD + SECOND_PACKAGE.format(id="nw-careers", lobs='"careers"'),
         ["duplicate package id 'nw-expert'"], "22:1"),
    Case("contract.term_order", edit(GOOD, "end = 2026-12-31", "end = 2025-12-31"),
         edit(GOOD, "end = 2026-12-31", "end = 2026-01-02"),  # one day after the start is a valid term
         ["term end 2025-12-31 is not after its start 2026-01-01"], "4:1"),
    Case("contract.timezone", edit(GOOD, "America/New_York", "America/New_Yrok"),
         edit(GOOD, "America/New_York", "Asia/Tokyo"),  # any IANA zone tzdata knows
         ["'America/New_Yrok' is not an IANA time zone name"], "6:1"),
    Case("contract.holidays", edit(GOOD, 'holidays = "US"', 'holidays = "us"'),
         edit(GOOD, 'holidays = "US"', 'holidays = "CA"'),
         ["holiday country 'us' is unknown", "did you mean 'US'?"], "7:1"),
    Case("contract.overage_incomplete", edit(GOOD, ', agreement = "SOW-114"', ""),
         edit(GOOD, 'overage = { rate = 240.0, currency = "USD", agreement = "SOW-114" }   # optional\n', ""),  # no overage at all
         ["missing agreement"], "8:1"),
    Case("contract.expansion_purchase_timing", edit(GOOD, "purchased_on = 2026-01-01", "purchased_on = 2026-03-01"), GOOD,
         ["bought on 2026-03-01", "not at the start of the renewal term 2026-01-01"], "19:1"),
    Case("contract.expansion_pack_kind", edit(GOOD, 'package = "nw-expert"', 'package = "nw-expret"'), GOOD,
         ["names no package of this contract: 'nw-expret'"], "16:1"),
]


@pytest.mark.parametrize("case", CONTRACT_CASES, ids=[c.rule for c in CONTRACT_CASES])
def test_contract_check_fails_bad_file_and_passes_good_file(tree, case):
    bad = write("/tree/contracts/bad.toml", case.bad)
    result = lint(str(bad))
    assert result.exit_code == 1, result.output
    assert f"{case.rule} " in result.output
    for value in case.names:
        assert value in result.output
    if case.where:
        assert f"{bad}:{case.where}: {case.rule} " in result.output

    good = write("/tree/contracts/good.toml", case.good)
    result = lint(str(good))
    assert result.exit_code == 0, result.output
    assert result.output == "1 file checked, no problems\n"  # a clean run says so in one line


def test_good_contract_from_the_spec_and_the_northwind_examples_pass(tree):
    tree.add_real_directory(str(REPO / "examples" / "northwind" / "contracts"), target_path="/tree/nw")
    good = write("/tree/c/NW-2026.toml", GOOD)
    result = lint(str(good), "/tree/nw")
    assert result.exit_code == 0, result.output
    assert result.output == "4 files checked, no problems\n"  # NW-2026.toml and the 3 Northwind contracts


def test_holidays_subdivision_must_belong_to_the_country(tree):
    bad = write("/tree/c.toml", edit(GOOD, 'holidays = "US"', 'holidays = "US"\nholidays_subdiv = "ZZ"'))
    result = lint(str(bad))
    assert result.exit_code == 1
    assert f"{bad}:8:1: contract.holidays subdivision 'ZZ' is not one of US's:" in result.output
    write(bad, edit(GOOD, 'holidays = "US"', 'holidays = "US"\nholidays_subdiv = "NY"'))
    assert lint(str(bad)).exit_code == 0


def test_holidays_subdivision_needs_a_country(tree):
    bad = write("/tree/c.toml", edit(GOOD, 'holidays = "US"', 'holidays_subdiv = "NY"'))
    result = lint(str(bad))
    assert result.exit_code == 1
    assert f"{bad}:7:1: contract.holidays holidays_subdiv is given without a holidays country" in result.output


def test_expansion_purchase_on_a_contract_that_is_not_a_renewal(tree):
    bad = write("/tree/c.toml", edit(GOOD, 'renewal_of = "NW-2025"            # optional\n', ""))
    result = lint(str(bad))
    assert result.exit_code == 1
    # the purchase moved up one line with renewal_of gone: purchased_on is line 18
    assert f"{bad}:18:1: contract.expansion_purchase_timing expansion hours bought on 2026-01-01, but the contract is not a renewal" in result.output


def test_expansion_pack_kind_must_be_the_tiers_kind(tree):
    # Table 9: Expert includes 2 intermediate deployments, so an advanced purchase is wrong
    bad = write("/tree/c.toml", edit(GOOD, 'kind = "intermediate"', 'kind = "advanced"'))
    result = lint(str(bad))
    assert result.exit_code == 1
    assert f"{bad}:17:1: contract.expansion_pack_kind " in result.output
    assert "'advanced'" in result.output and "intermediate" in result.output


def test_overage_with_an_empty_agreement_is_incomplete(tree):
    bad = write("/tree/c.toml", edit(GOOD, 'agreement = "SOW-114"', 'agreement = ""'))
    result = lint(str(bad))
    assert result.exit_code == 1
    assert "contract.overage_incomplete overage needs a rate agreed in writing: missing agreement" in result.output


def test_not_recognised_only_for_files_given_explicitly(tree):
    notes = write("/tree/c/notes.txt", "hello\n")
    other = write("/tree/c/settings.toml", 'name = "x"\n')
    write("/tree/c/cso-policy.toml", 'contracts = ["."]\n')  # a workspace file is never a contract
    result = lint(str(notes), str(other))
    assert result.exit_code == 1
    assert f"{notes}: contract.not_recognised not a TOML file" in result.output
    assert f"{other}: contract.not_recognised neither a contract (no policy/packages) nor policy data" in result.output
    # Folders are searched: files that are not contracts are skipped there, not reported.
    write("/tree/c/good.toml", GOOD)
    result = lint("/tree/c")
    assert result.exit_code == 0, result.output
    assert result.output == "1 file checked, no problems\n"  # good.toml; settings.toml is skipped
    assert lint("/tree/c/cso-policy.toml").exit_code == 0


def test_a_missing_path_is_a_usage_error(tree):
    result = lint("/tree/nope.toml")
    assert result.exit_code == 2
    assert "no such file or folder" in result.output


def test_lines_of_business_must_be_a_list(tree):
    bad = write("/tree/c.toml", edit(GOOD, '["retail", "outlet"]', '"retail"'))
    result = lint(str(bad))
    assert result.exit_code == 1
    assert "contract.schema" in result.output and "'retail'" in result.output


def test_schema_message_names_a_bad_pack_kind(tree):
    bad = write("/tree/c.toml", edit(GOOD, 'kind = "intermediate"', 'kind = "huge"'))
    result = lint(str(bad))
    assert result.exit_code == 1
    assert "contract.schema" in result.output and "'huge'" in result.output


# ------------------------------------------------------------------ policy checks


def _edit_file(path: Path, old: str, new: str) -> None:
    path.chmod(0o644)  # terms.txt is read-only on disk; this is the in-memory copy
    path.write_text(edit(path.read_text(encoding="utf-8"), old, new), encoding="utf-8")


def _fix_caps(root: Path) -> None:
    # Make per_year = 4 x per_quarter for the two tiers where the seed differs: 113 x 4 = 452, 246 x 4 = 984.
    _edit_file(root / VERSION / "entitlement.toml", "premier = 455, expert = 985", "premier = 452, expert = 984")


POLICY_CASES = [
    # (rule, file in the version folder, old, new, what the message names, key the line must point at)
    ("policy.invalid_toml", "entitlement.toml", 'tiers = ["foundations"', 'oops\ntiers = ["foundations"',
     ["invalid TOML", "Expected '=' after a key"], None),
    ("policy.schema", "entitlement.toml", "premier = 113,", 'premier = "113",',
     ["$.hours.per_quarter", "expected a number, got '113'"], "per_quarter ="),
    ("policy.manifest", "manifest.toml", 'version = "1.0"', 'version = "1.1"',
     ["manifest says liveperson-cso@1.1 but the folder is liveperson-cso/1.0"], "id ="),
    ("policy.tier_coverage", "entitlement.toml", ", strategic = 500 }", " }",
     ["$.hours.per_quarter has no value for strategic"], "per_quarter ="),
    ("policy.unknown_term", "entitlement.toml",
     'cells = { foundations = "Monthly", fundamentals = "Monthly", premier = "Twice Monthly", expert = "Twice Monthly", strategic = "Weekly" }\n\n[items.customer_performance_review]',
     'cells = { foundations = "Monthly", fundamentals = "Monthly", premier = "Twice Montly", expert = "Twice Monthly", strategic = "Weekly" }\n\n[items.customer_performance_review]',
     ["$.items.customer_account_plan.cells", "unknown frequency word 'Twice Montly'", "did you mean 'Twice Monthly'?"], None),
]


@pytest.mark.parametrize("rule,name,old,new,names,key", POLICY_CASES, ids=[c[0] for c in POLICY_CASES])
def test_policy_check_fails_bad_version_and_passes_good_version(policies, rule, name, old, new, names, key):
    # the unchanged copy: no error (only the two policy.inconsistent_caps warnings of the seed)
    result = lint(str(policies))
    assert result.exit_code == 0, result.output
    assert rule not in result.output
    assert "0 error(s), 2 warning(s)" in result.output

    path = policies / VERSION / name
    _edit_file(path, old, new)
    result = lint(str(policies))
    assert result.exit_code == 1, result.output
    for value in names:
        assert value in result.output
    if key:
        line = line_of(path.read_text(encoding="utf-8"), key)
        assert f"{path}:{line}:1: {rule} " in result.output
    elif rule == "policy.invalid_toml":
        line = line_of(path.read_text(encoding="utf-8"), "oops")
        assert f"{path}:{line}:5: {rule} " in result.output  # after 'oops' tomllib expects '=' at column 5
    else:  # a key under a dotted header ([items.*]) is found at its line
        assert re.search(rf"{re.escape(str(path))}:\d+:1: {re.escape(rule)} ", result.output), result.output


def test_unreadable_entitlement_gives_one_finding_not_a_cascade(policies):
    _edit_file(policies / VERSION / "entitlement.toml", 'tiers = ["foundations"', 'oops\ntiers = ["foundations"')
    result = lint(str(policies), "--format", "json")
    rules = [f["rule"] for f in json.loads(result.output)["findings"] if f["level"] == "error"]
    assert rules == ["policy.invalid_toml"]


def test_manifest_lists_a_module_without_its_file(policies):
    path = policies / VERSION / "manifest.toml"
    _edit_file(path, 'modules = ["entitlement"', 'modules = ["billing", "entitlement"')
    result = lint(str(policies))
    assert result.exit_code == 1
    assert f"{path}:{line_of(path.read_text(), 'modules =')}:1: policy.manifest module 'billing' is listed but billing.toml is missing" in result.output


def test_source_hash_must_match_the_manifest(policies):
    terms = policies / VERSION / "terms.txt"
    assert lint(str(policies)).exit_code == 0
    _edit_file(terms, "Terms and Conditions", "Terms & Conditions")
    actual = hashlib.sha256(terms.read_bytes()).hexdigest()
    result = lint(str(policies))
    assert result.exit_code == 1
    manifest = policies / VERSION / "manifest.toml"
    line = line_of(manifest.read_text(), "sha256 =")
    assert (f"{manifest}:{line}:1: policy.source_hash sha256 of terms.txt is {actual}, "
            "manifest says d7d4aafde75a96859d81322871d4fef347b540bb924017dd59d17349fa0b796d") in result.output


def test_unknown_tier_in_a_table_and_unknown_period_anchor(policies):
    path = policies / VERSION / "entitlement.toml"
    _edit_file(path, "per_year = { foundations = 100,", "per_year = { platinum = 1, foundations = 100,")
    _edit_file(path, 'anchor = "term_start"', 'anchor = "calendar"')
    result = lint(str(policies))
    assert result.exit_code == 1
    text = path.read_text()
    assert f"{path}:{line_of(text, 'per_year =')}:1: policy.tier_coverage $.hours.per_year names unknown tier(s) platinum" in result.output
    assert f"{path}:{line_of(text, 'anchor =')}:1: policy.unknown_term periods.anchor 'calendar' is not supported" in result.output


def test_inconsistent_caps_is_a_warning_naming_both_caps(policies):
    # Section 1: premier 113 h/quarter x 4 = 452 != 455 h/year; expert 246 x 4 = 984 != 985.
    # The other tiers agree: 25 x 4 = 100, 65 x 4 = 260, 500 x 4 = 2000.
    path = policies / VERSION / "entitlement.toml"
    line = line_of(path.read_text(), "per_year =")
    result = lint(str(policies))
    assert result.exit_code == 0  # a warning does not fail by default
    assert (f"{path}:{line}:1: policy.inconsistent_caps premier: 113 h/quarter x 4 = 452 h, "
            "but the annual cap is 455 h; the audit applies both caps") in result.output
    assert (f"{path}:{line}:1: policy.inconsistent_caps expert: 246 h/quarter x 4 = 984 h, "
            "but the annual cap is 985 h; the audit applies both caps") in result.output
    assert lint(str(policies), "--fail-on", "warning").exit_code == 1
    assert lint(str(policies), "--fail-on", "never").exit_code == 0

    _fix_caps(policies)
    result = lint(str(policies), "--fail-on", "warning")
    assert result.exit_code == 0, result.output
    # manifest.toml, the source text it hashes (terms.txt) and the modules entitlement, sla, expansion
    assert result.output == "5 files checked, no problems\n"


def test_lint_policies_folder_of_the_repository(monkeypatch):
    """`cso-policy lint policies` in the repository: the seed's 113 x 4 vs 455 (and 246 x 4 vs 985),
    in each bundled version (1.0 and 1.1 read the same terms)."""
    monkeypatch.chdir(REPO)
    result = CliRunner().invoke(cli.main, ["lint", "policies"])
    assert result.exit_code == 0, result.output
    entitlement = Path("policies") / VERSION / "entitlement.toml"
    line = line_of((REPO / entitlement).read_text(encoding="utf-8"), "per_year =")
    assert (f"{entitlement.as_posix()}:{line}:1: policy.inconsistent_caps premier: 113 h/quarter x 4 = 452 h, "
            "but the annual cap is 455 h; the audit applies both caps") in result.output
    assert f"{entitlement.as_posix()}:{line}:1: policy.inconsistent_caps expert: 246 h/quarter x 4 = 984 h" in result.output

    result = CliRunner().invoke(cli.main, ["lint", "policies", "--fail-on", "warning"])
    assert result.exit_code == 1

    report = json.loads(CliRunner().invoke(cli.main, ["lint", "policies", "--format", "json"]).output)
    assert report["summary"]["errors"] == 0
    caps = sorted((Path(f["file"]).parent.name, f["message"].split(":")[0]) for f in report["findings"]
                  if f["rule"] == "policy.inconsistent_caps")
    assert caps == [("1.0", "expert"), ("1.0", "premier"), ("1.1", "expert"), ("1.1", "premier")]


# ------------------------------------------------------------------ LOCK


def lock(*args: str):
    return CliRunner().invoke(cli.main, ["policies", "lock", *args])


def test_lock_writes_lock_and_lint_fails_when_a_locked_version_changes(policies):
    result = lock(str(policies))
    assert result.exit_code == 0, result.output
    assert result.output == "locked liveperson-cso@1.0\n"
    text = (policies / "LOCK").read_text()
    assert re.search(r'^"liveperson-cso@1\.0" = "sha256:[0-9a-f]{64}"$', text, re.M), text
    assert lint(str(policies)).exit_code == 0  # locked and unchanged: only the two warnings
    assert lint(str(policies / "LOCK")).exit_code == 0  # LOCK itself (what pre-commit passes) lints every version

    # Section 1 premier hours changed in place in the published version
    _edit_file(policies / VERSION / "entitlement.toml", "premier = 113,", "premier = 115,")
    manifest = policies / VERSION / "manifest.toml"
    for target in (policies, policies / "LOCK", policies / VERSION / "entitlement.toml"):
        result = lint(str(target))
        assert result.exit_code == 1, result.output
        assert (f"{manifest}: policy.locked_version_changed liveperson-cso@1.0 is locked (published) but its files "
                "changed; revert them and add the new terms as a new version folder") in result.output

    # a file added to a locked version is a change too
    _edit_file(policies / VERSION / "entitlement.toml", "premier = 115,", "premier = 113,")
    assert lint(str(policies)).exit_code == 0
    write(policies / VERSION / "notes.md", "a note\n")
    assert "policy.locked_version_changed" in lint(str(policies)).output


def test_lock_refuses_a_changed_version(policies):
    assert lock(str(policies)).exit_code == 0
    before = (policies / "LOCK").read_text()
    _edit_file(policies / VERSION / "entitlement.toml", "premier = 113,", "premier = 115,")
    result = lock(str(policies))
    assert result.exit_code == 1
    assert "refused liveperson-cso@1.0: changed since it was locked; add a new version instead" in result.stderr
    assert (policies / "LOCK").read_text() == before  # the locked hash is kept
    assert lint(str(policies)).exit_code == 1


def test_new_version_folder_then_lock(policies):
    assert lock(str(policies)).exit_code == 0
    # new terms go in a new version folder: 1.1 with premier 115 h/quarter x 4 = 460 h/year
    new = policies / "liveperson-cso" / "1.1"
    for src in sorted((policies / VERSION).iterdir()):
        write(new / src.name, src.read_text(encoding="utf-8"))
    _edit_file(new / "manifest.toml", 'version = "1.0"', 'version = "1.1"')
    _edit_file(new / "entitlement.toml", "premier = 113,", "premier = 115,")
    _edit_file(new / "entitlement.toml", "premier = 455,", "premier = 460,")

    result = lint(str(policies))
    assert result.exit_code == 0, result.output  # 1.1 is not locked yet; 1.0 is unchanged
    assert "premier: 115" not in result.output  # 115 x 4 = 460: consistent

    result = lock(str(policies))
    assert result.exit_code == 0, result.output
    assert result.output == "locked liveperson-cso@1.1\n"  # 1.0 was locked already
    text = (policies / "LOCK").read_text()
    assert '"liveperson-cso@1.0" = "sha256:' in text and '"liveperson-cso@1.1" = "sha256:' in text
    assert lint(str(policies)).exit_code == 0

    _edit_file(new / "entitlement.toml", "premier = 115,", "premier = 116,")
    result = lint(str(policies))
    assert result.exit_code == 1
    assert "liveperson-cso@1.1 is locked (published) but its files changed" in result.output


# ------------------------------------------------------------------ output formats


def test_text_format_is_file_line_col_rule_message_sorted(tree):
    bad = write("/tree/c/bad.toml", edit(edit(GOOD, 'tier = "expert"', 'tier = "Premeir"'),
                                         "end = 2026-12-31", "ende = 2026-12-31"))
    result = lint(str(bad))
    assert result.exit_code == 1
    # A schema problem stops the contract checks, so only the two term problems are reported;
    # the unknown key sits inside the inline table on line 4: ", ende" starts at column 28, "ende" at 30.
    assert result.output == (
        f"{bad}:4:1: contract.schema $.term.end: required field missing\n"
        f"{bad}:4:30: contract.schema $.term: unknown field(s): ende\n"
        "2 error(s), 0 warning(s)\n"
    )
    write(bad, edit(GOOD, 'tier = "expert"', 'tier = "Premeir"'))
    assert lint(str(bad)).output == (
        f"{bad}:12:1: contract.unknown_tier unknown tier 'Premeir' (expected one of foundations, fundamentals, "
        "premier, expert, strategic); did you mean 'premier'?\n"
        "1 error(s), 0 warning(s)\n"
    )


def test_json_format(policies):
    bad = write("/tree/c/bad.toml", edit(GOOD, 'tier = "expert"', 'tier = "Premeir"'))
    result = lint(str(bad), str(policies), "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["summary"] == {"errors": 1, "warnings": 2}
    first = report["findings"][0]
    assert first == {
        "rule": "contract.unknown_tier", "level": "error", "file": str(bad), "line": 12, "column": 1,
        "path": "$.packages[0].tier",
        "message": "unknown tier 'Premeir' (expected one of foundations, fundamentals, premier, expert, strategic); "
                   "did you mean 'premier'?",
    }
    assert [(f["rule"], f["level"]) for f in report["findings"][1:]] == [("policy.inconsistent_caps", "warning")] * 2


def _validate_sarif(log: dict) -> None:
    validator_cls = jsonschema.validators.validator_for(SARIF_SCHEMA)
    validator_cls.check_schema(SARIF_SCHEMA)
    validator_cls(SARIF_SCHEMA, format_checker=validator_cls.FORMAT_CHECKER).validate(log)


def test_vendored_schema_is_the_official_sarif_2_1_0_schema():
    assert SARIF_SCHEMA["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    assert SARIF_SCHEMA["id"] == "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    assert jsonschema.validators.validator_for(SARIF_SCHEMA) is jsonschema.Draft4Validator
    with pytest.raises(jsonschema.ValidationError):  # the schema does reject a malformed log
        _validate_sarif({"version": "2.1.0", "runs": [{"tool": {"driver": {}}, "results": []}]})


def test_sarif_format_validates_against_the_sarif_2_1_0_schema(policies):
    bad = write("/tree/c/bad.toml", edit(GOOD, 'tier = "expert"', 'tier = "Premeir"'))
    assert lock(str(policies)).exit_code == 0
    _edit_file(policies / VERSION / "entitlement.toml", "premier = 113,", "premier = 115,")  # a finding with no line
    result = lint(str(bad), str(policies), "--format", "sarif", "--output", "/tree/lint.sarif")
    assert result.exit_code == 1
    assert result.output == ""
    log = json.loads(Path("/tree/lint.sarif").read_text())
    _validate_sarif(log)

    assert log["version"] == "2.1.0"
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert sorted(r["id"] for r in rules) == sorted(catalogue().lint_rules)
    by_rule = {r["ruleId"]: r for r in run["results"]}
    for r in run["results"]:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]

    tier = by_rule["contract.unknown_tier"]
    assert tier["level"] == "error"
    assert "unknown tier 'Premeir'" in tier["message"]["text"]
    # the cwd is /tree, so the uri is relative to it
    assert tier["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "c/bad.toml"}, "region": {"startLine": 12, "startColumn": 1}}

    # 115 x 4 = 460 != 455 now, and expert 246 x 4 = 984 != 985 as before: warnings
    caps = [r for r in run["results"] if r["ruleId"] == "policy.inconsistent_caps"]
    assert {r["level"] for r in caps} == {"warning"} and len(caps) == 2
    locked = by_rule["policy.locked_version_changed"]
    assert "region" not in locked["locations"][0]["physicalLocation"]
    assert locked["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "policies/liveperson-cso/1.0/manifest.toml"


def test_sarif_of_a_clean_run_and_of_a_file_outside_the_cwd(tree):
    good = write("/tree/c/good.toml", GOOD)
    result = lint(str(good), "--format", "sarif")
    assert result.exit_code == 0
    log = json.loads(result.output)
    _validate_sarif(log)
    assert log["runs"][0]["results"] == []

    tree.create_dir("/elsewhere")
    os.chdir("/elsewhere")
    bad = write("/tree/c/bad.toml", edit(GOOD, "America/New_York", "Mars/Olympus"))
    log = json.loads(lint(str(bad), "--format", "sarif").output)
    _validate_sarif(log)
    (result,) = log["runs"][0]["results"]
    assert result["ruleId"] == "contract.timezone"
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "file:///tree/c/bad.toml"


def test_a_waivers_file_is_checked_as_waivers(tmp_path):
    """The workspace's waivers file is neither a contract nor policy data: lint checks it as
    waivers (well formed, each naming a record or a lob) instead of calling it unrecognised."""
    from click.testing import CliRunner

    from cso_policy.cli import main

    waivers = tmp_path / "waivers.toml"
    good = ('[[waiver]]\nrule = "entitlement.*"\ncontract = "NW-2026"\nrecord = "w1"\nreason = "agreed"\n'
            'approved_by = "cfo"\nexpires = 2026-12-31\n')
    waivers.write_text(good, encoding="utf-8")
    result = CliRunner().invoke(main, ["lint", str(waivers)])
    assert (result.exit_code, result.output) == (0, "1 file checked, no problems\n")
    waivers.write_text(good.replace('record = "w1"\n', "").replace("2026-12-31", '"someday"'), encoding="utf-8")
    result = CliRunner().invoke(main, ["lint", str(waivers)])
    assert result.exit_code == 1
    assert f"{waivers}:6:1: waivers.schema $.waiver[0].expires: expected a date (YYYY-MM-DD), got 'someday'" \
        in result.output, result.output
