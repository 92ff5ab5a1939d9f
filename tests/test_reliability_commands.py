"""`lint`, `test` and `verify` on bad input: one line and exit 2 (or, for lint, a finding), never
a traceback or an internal error; `verify` loads no plugin a report names without consent.

Most tests run on a copy of examples/northwind, from inside the copy, as a user would.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cso_policy.cli import main
from cso_policy.plugins import DISABLE_AUTOLOAD_ENV, TRUST_WORKSPACE_ENV
from cso_policy.policy.registry import builtin_policy_root
from tests.conftest import assert_exit_2

NORTHWIND = Path(__file__).resolve().parents[1] / "examples" / "northwind"
CONTRACT = "contracts/northwind.toml"
DEEP_ARRAY = "[" * 500 + "]" * 500
DEEP_TABLE = "{a = " * 500 + "1" + "}" * 500
WAIVERS = ('[[waiver]]\nrule = "entitlement.*"\ncontract = "NW-2026"\nrecord = "w1"\nreason = "agreed"\n'
           'approved_by = "cfo"\nexpires = 2026-12-31\n')


@pytest.fixture
def nw(tmp_path, monkeypatch) -> Path:
    """A copy of examples/northwind, the current folder."""
    root = tmp_path / "nw"
    shutil.copytree(NORTHWIND, root)
    monkeypatch.chdir(root)
    return root


def run(*args: str, env: dict | None = None):
    return CliRunner(env={DISABLE_AUTOLOAD_ENV: "1"} if env is None else env).invoke(main, list(args))


def set_timezone(path: Path, zone: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(f'timezone = "{zone}"\n' if line.startswith("timezone =") else line for line in lines),
                    encoding="utf-8")


def assert_one_finding(result, file: str, rule: str, *parts: str) -> None:
    """Lint exit 1 with one finding of *rule* in *file*, nothing on stderr."""
    assert result.exit_code == 1, result.output
    assert result.stderr == ""
    lines = [line for line in result.stdout.splitlines() if line.startswith(f"{file}:")]
    assert len(lines) == 1 and f": {rule} " in lines[0], result.stdout
    for part in parts:
        assert part in lines[0]


# ------------------------------------------------------------------ lint: time zones


@pytest.mark.parametrize("zone", ["America", "Etc", "x" * 5000, "Mars/Base"])
@pytest.mark.parametrize("given", ["contracts", CONTRACT, "."])
def test_lint_reports_a_zone_folder_or_a_too_long_zone_as_a_timezone_finding(nw, zone, given):
    """What audit refuses in one line is a contract.timezone finding, as for "Mars/Base"."""
    set_timezone(nw / CONTRACT, zone)
    result = run("lint", given)
    assert_one_finding(result, CONTRACT, "contract.timezone", "is not an IANA time zone name")
    assert len(result.stdout) < 1000  # a 5000-character name is cut short


# ------------------------------------------------------------------ lint: encoding and nesting


def _policy_copy(root: Path) -> Path:
    """A writable copy of the bundled policies under *root*; returns its version 1.1 folder."""
    shutil.copytree(builtin_policy_root(), root / "pol")
    return root / "pol" / "liveperson-cso" / "1.1"


@pytest.mark.parametrize(("encoding", "said"), [("latin-1", "TOML file is not UTF-8 (byte 0xe9"),
                                                ("utf-16", "TOML file is UTF-16")])
@pytest.mark.parametrize("target", ["contract", "waivers", "manifest"])
def test_lint_reports_a_file_that_is_not_utf8_as_invalid_toml(nw, encoding, said, target):
    if target == "contract":
        path, rule, given = nw / CONTRACT, "contract.invalid_toml", "contracts"
        text = path.read_text(encoding="utf-8").replace('customer = "', 'customer = "Café ')
    elif target == "waivers":
        path, rule, given = nw / "waivers.toml", "contract.invalid_toml", "waivers.toml"
        text = WAIVERS.replace('"agreed"', '"agréé"')
    else:
        path, rule, given = _policy_copy(nw) / "manifest.toml", "policy.invalid_toml", "pol"
        text = path.read_text(encoding="utf-8").replace('title = "', 'title = "é ')
    path.write_bytes(text.encode(encoding, errors="replace"))
    assert_one_finding(run("lint", given), str(path.relative_to(nw)), rule, said)


@pytest.mark.parametrize("value", [DEEP_ARRAY, DEEP_TABLE], ids=["arrays", "inline-tables"])
@pytest.mark.parametrize("target", ["contract", "waivers", "manifest", "entitlement"])
def test_lint_reports_toml_nested_too_deeply_as_invalid_toml(nw, value, target):
    if target == "contract":
        path, rule, given, text = nw / CONTRACT, "contract.invalid_toml", "contracts", None
    elif target == "waivers":
        path, rule, given, text = nw / "waivers.toml", "contract.invalid_toml", "waivers.toml", WAIVERS
    else:
        path = _policy_copy(nw) / f"{target}.toml"
        rule, given, text = "policy.invalid_toml", "pol", None
    text = text if text is not None else path.read_text(encoding="utf-8")
    path.write_text(f"deep = {value}\n{text}", encoding="utf-8")
    assert_one_finding(run("lint", given), str(path.relative_to(nw)), rule, "invalid TOML (nested too deeply)")


def test_lint_says_why_a_pinned_policy_that_exists_cannot_be_loaded(nw):
    entitlement = _policy_copy(nw) / "entitlement.toml"
    entitlement.write_bytes(entitlement.read_text(encoding="utf-8").encode("utf-16"))
    result = run("lint", CONTRACT, "--policies", "pol")
    assert_one_finding(result, CONTRACT, "contract.unknown_policy", "'liveperson-cso@1.1' cannot be loaded",
                       "entitlement.toml: TOML file is UTF-16")


@pytest.mark.parametrize(("lock", "message"), [
    (b'[versions]\n"liveperson-cso@1.0" = "caf\xe9"\n', "pol/LOCK: TOML file is not UTF-8"),
    (f"x = {DEEP_ARRAY}\n".encode(), "pol/LOCK: invalid TOML (nested too deeply)"),
    (b"versions = 5\n", "pol/LOCK $.versions: expected a table"),
    (b'[versions]\n"liveperson-cso@1.0" = 5\n', 'pol/LOCK $.versions."liveperson-cso@1.0": expected a string'),
])
def test_lint_a_lock_file_it_cannot_use_is_one_line(nw, lock, message):
    _policy_copy(nw)
    (nw / "pol" / "LOCK").write_bytes(lock)
    assert_exit_2(run("lint", "pol"), message, one_line=True)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_lint_a_fifo_is_one_line_not_a_hang(nw):
    os.mkfifo(nw / "pipe.toml")
    assert_exit_2(run("lint", "pipe.toml"), "pipe.toml: cannot read (not a regular file)", one_line=True)


def test_lint_a_path_too_long_for_the_system_is_one_line(nw):
    assert_exit_2(run("lint", "y" * 5000), "cannot read (File name too long)", one_line=True)


# ------------------------------------------------------------------ test


def make_case(folder: Path, expect: str, name: str = "expect.toml") -> Path:
    folder.mkdir(parents=True)
    shutil.copyfile(NORTHWIND / CONTRACT, folder / "northwind.toml")
    (folder / name).write_text(expect, encoding="utf-8")
    return folder


def test_case_folders_given_by_a_relative_path(nw):
    """The case's files were joined to its folder twice (cases/c1/cases/c1/northwind.toml)."""
    make_case(nw / "cases" / "c1", '[[must_not]]\nrule = "entitlement.*"\n')
    relative, absolute = run("test", "cases"), run("test", str(nw / "cases"))
    assert (relative.exit_code, relative.stdout) == (0, "PASS  cases/c1\n1 passed, 0 failed\n")
    assert (absolute.exit_code, absolute.stdout) == (0, f"PASS  {nw / 'cases' / 'c1'}\n1 passed, 0 failed\n")


@pytest.mark.parametrize(("name", "content", "message"), [
    ("expect.json", "[" * 10000, "cases/c1/expect.json: invalid JSON (nested too deeply)"),
    ("expect.toml", f'[[must]]\nrule = "x"\n[deep]\nv = {DEEP_ARRAY}\n', "cases/c1/expect.toml: invalid TOML (nested too deeply)"),
    ("expect.toml", f"deep = {DEEP_TABLE}\n", "cases/c1/expect.toml: invalid TOML (nested too deeply)"),
    ("expect.json", '{"must": [{"rule": "x"}]}'.encode("utf-16"), "cases/c1/expect.json: JSON file is UTF-16"),
    ("expect.toml", '[[must]]\nrule = "caf\xe9"\n'.encode("latin-1"), "cases/c1/expect.toml: TOML file is not UTF-8"),
    ("expect.json", '{"must": [{"rule": 5}]}', "cases/c1/expect.json $.must[0].rule: expected a string"),
])
def test_an_expect_file_it_cannot_use_is_one_line(nw, name, content, message):
    folder = make_case(nw / "cases" / "c1", "", name=name)
    path = folder / name
    path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content, encoding="utf-8")
    assert_exit_2(run("test", "cases"), message, one_line=True)


def test_an_expect_file_that_is_a_folder_is_one_line(nw):
    (nw / "cases" / "c1" / "expect.toml").mkdir(parents=True)
    assert_exit_2(run("test", "cases"), "cases/c1: expect.toml or expect.json is not a file", one_line=True)


# ------------------------------------------------------------------ verify


@pytest.fixture
def report(nw) -> Path:
    """A json report of the northwind audit, from its folder."""
    result = run("audit", "--format", "json", "--output", "r.json", "-q", "--as-of", "2026-12-31T00:00:00Z")
    assert result.exit_code == 1, result.output
    return nw / "r.json"


def edit(report: Path, change) -> Path:
    document = json.loads(report.read_text(encoding="utf-8"))
    change(document)
    report.write_text(json.dumps(document), encoding="utf-8")
    return report


def _set(keys: str, value):
    def change(document):
        *parents, last = keys.split(".")
        target = document
        for key in parents:
            target = target[key]
        if value is KeyError:
            del target[last]
        else:
            target[last] = value
    return change


@pytest.mark.parametrize(("keys", "value", "message"), [
    ("run.command.workspace", 5, "r.json $.run.command.workspace: expected a string, got 5"),
    ("run.command.policies", [[1]], "r.json $.run.command.policies[0]: expected a string"),
    ("run.command.contracts", "contracts", "r.json $.run.command.contracts: expected a list"),
    ("run.command.plugins", {"a": 1}, "r.json $.run.command.plugins: expected a list"),
    ("run.command.as_of", KeyError, "r.json $.run.command.as_of: required field missing"),
    ("run.command.as_of", "2026-12-31T00:00:00", "r.json $.run.command.as_of: expected an ISO 8601 timestamp with a UTC offset"),
    ("run.command.baseline_run", "x", "r.json $.run.command.baseline_run: expected an integer"),
    ("run.policies", [[1]], "r.json $.run.policies[0]: expected a"),
    ("run.plugins", [[1]], "r.json $.run.plugins[0]: expected a"),
    ("run.plugins", [{"name": 5, "version": None, "origin": None}], "r.json $.run.plugins[0].name: expected a string"),
    ("run.contracts", [None], "r.json $.run.contracts[0]: expected a"),
    ("run.inputs", [{"source": "jsonl", "input": "f.jsonl", "records": "many"}], "r.json $.run.inputs[0].records: expected an integer"),
    ("run.tool", "cso-policy", "r.json $.run.tool: expected a"),
    ("run.version", 2, "r.json $.run.version: a run record of version 2"),
    ("findings", [1], "r.json $.findings[0]: expected an object"),
])
def test_a_run_record_of_wrong_types_is_one_line_naming_the_key(report, keys, value, message):
    assert_exit_2(run("verify", str(edit(report, _set(keys, value)).name)), message, one_line=True)


def test_a_finding_nested_deeper_than_can_be_compared_is_one_line(report):
    deep = json.loads("[" * 300 + "]" * 300)
    edit(report, lambda d: d["findings"][0].update(x=deep))
    assert_exit_2(run("verify", "r.json"), "r.json $.findings[0]: nested too deeply", one_line=True)


def test_a_source_location_with_a_superscript_digit_is_a_changed_finding(report):
    edit(report, lambda d: d["findings"][0].update(source="f.jsonl:²"))
    result = run("verify", "r.json")
    assert result.exit_code == 1 and result.stderr == "", result.output
    assert "1 finding(s) gone:" in result.stdout and " f.jsonl:²: " in result.stdout


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: p.mkdir(), "cannot read (is a folder)"),
    (lambda p: p.write_bytes('{"run": {}}'.encode("utf-16")), "report is UTF-16"),
    (lambda p: p.write_text("[" * 100000, encoding="utf-8"), "not JSON"),
])
def test_a_report_verify_cannot_read_is_one_line(nw, make, message):
    make(nw / "bad.json")
    assert_exit_2(run("verify", "bad.json"), f"bad.json: {message}", one_line=True)


# ------------------------------------------------------------------ verify: plugins are code

PLUGIN = '''
from pathlib import Path
from cso_policy import hookimpl

Path("imported.marker").write_text("the plugin ran")


@hookimpl
def cso_policy_rules():
    return []
'''


@pytest.fixture
def plugin_report(nw) -> Path:
    """A report of a run with ``-p p.py``; the plugin leaves a marker file each time it is imported."""
    (nw / "p.py").write_text(PLUGIN, encoding="utf-8")
    result = run("-p", "p.py", "audit", "--format", "json", "--output", "r.json", "-q", "--as-of", "2026-12-31T00:00:00Z")
    assert result.exit_code == 1, result.output
    assert json.loads((nw / "r.json").read_text(encoding="utf-8"))["run"]["command"]["plugins"] == ["p.py"]
    (nw / "imported.marker").unlink()
    return nw / "r.json"


def test_verify_refuses_to_load_a_plugin_only_the_report_names(nw, plugin_report):
    result = run("verify", "r.json")
    assert_exit_2(result, "r.json: the run loaded plugin p.py, which is code: pass -p p.py or "
                          "--allow-workspace-plugins", one_line=True)
    assert not (nw / "imported.marker").exists()


def test_verify_refuses_a_module_the_report_names_too(report):
    edit(report, _set("run.command.plugins", ["os"]))
    assert_exit_2(run("verify", "r.json"), "the run loaded plugin os, which is code: pass -p os", one_line=True)


@pytest.mark.parametrize("consent", [["-p", "p.py"], ["-p", "./p.py"], ["--allow-workspace-plugins"]],
                         ids=["same-plugin", "same-file", "flag"])
def test_verify_loads_the_plugin_the_user_consents_to(nw, plugin_report, consent):
    result = run(*consent, "verify", "r.json")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("verified: the same")
    assert (nw / "imported.marker").exists()


def test_verify_loads_the_plugin_when_the_environment_trusts_workspaces(nw, plugin_report):
    result = run("verify", "r.json", env={TRUST_WORKSPACE_ENV: "1", DISABLE_AUTOLOAD_ENV: None})
    assert result.exit_code in (0, 1), result.output  # installed plugins may differ from the run's
    assert "cso-policy: running plugin p.py named by r.json" in result.stderr
    assert (nw / "imported.marker").exists()


@pytest.mark.parametrize("versions", ["versions = 5", 'versions = "x"', "versions = [1]", "[versions]\n\"a@1\" = 5"])
def test_policies_lock_with_a_lock_file_it_cannot_use_is_one_line(tmp_path, versions):
    root = tmp_path / "policies"
    shutil.copytree(builtin_policy_root() / "liveperson-cso", root / "liveperson-cso")
    (root / "LOCK").write_text(versions + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["policies", "lock", str(root)])
    assert_exit_2(result, f"{root / 'LOCK'} $.versions", one_line=True)
