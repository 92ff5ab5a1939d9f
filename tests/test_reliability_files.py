"""Issue 17: unusable input files, workspace keys, globs and output paths are one line on stderr
(``cso-policy: error: ...``) and exit 2, never a traceback."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cso_policy.cli import main
from cso_policy.testing import Workspace

REPO = Path(__file__).resolve().parent.parent
AS_OF = ["--as-of", "2026-06-01T00:00:00Z"]


def one_line_error(result, *parts: str) -> str:
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("cso-policy: error: "), result.stderr
    for part in parts:
        assert part in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def ws(tmp_path) -> Workspace:
    w = Workspace(root=tmp_path / "ws")
    w.root.mkdir()
    w.contract()
    w.records([{"kind": "work", "id": "w1", "date": "2026-01-05", "lob": "retail", "hours": 1,
                "service": "general_account_consulting"}])
    return w


def config(ws: Workspace, text: str = "") -> Path:
    path = ws.root / "cso-policy.toml"
    path.write_text('contracts = ["contracts"]\nrecords = ["records"]\n' + text, encoding="utf-8")
    return path


def audit(runner, ws: Workspace, *args: str):
    return runner.invoke(main, ["audit", str(ws.root), *AS_OF, *args])


def test_a_plain_workspace_audits(runner, ws):
    config(ws)
    result = audit(runner, ws)
    assert result.exit_code in (0, 1), result.output


# ---------------------------------------------------------------- encodings


BAD_BYTES = [
    ("utf16", lambda text: text.encode("utf-16"), "must be UTF-8"),
    ("latin1", lambda text: ("# caf\u00e9\n" + text).encode("latin-1"), "byte offset 5"),
]


@pytest.mark.parametrize(("name", "encode", "problem"), BAD_BYTES, ids=[b[0] for b in BAD_BYTES])
def test_contract_not_utf8(runner, ws, name, encode, problem):
    config(ws)
    path = ws.contract_files[0]
    path.write_bytes(encode(path.read_text(encoding="utf-8")))
    one_line_error(audit(runner, ws), str(path), problem)


@pytest.mark.parametrize(("name", "encode", "problem"), BAD_BYTES, ids=[b[0] for b in BAD_BYTES])
def test_workspace_not_utf8(runner, ws, name, encode, problem):
    path = config(ws)
    path.write_bytes(encode(path.read_text(encoding="utf-8")))
    one_line_error(audit(runner, ws), "cso-policy.toml", problem)


@pytest.mark.parametrize(("name", "encode", "problem"), BAD_BYTES, ids=[b[0] for b in BAD_BYTES])
def test_waivers_not_utf8(runner, ws, name, encode, problem):
    config(ws)
    path = ws.root / "waivers.toml"
    path.write_bytes(encode("# no waivers\n"))
    one_line_error(audit(runner, ws), "waivers.toml", problem)


@pytest.mark.parametrize(("name", "encode", "problem"), BAD_BYTES, ids=[b[0] for b in BAD_BYTES])
def test_policy_not_utf8(runner, ws, name, encode, problem):
    policies = ws.root / "pol"
    shutil.copytree(REPO / "policies", policies)
    manifest = policies / "liveperson-cso" / "1.0" / "manifest.toml"
    manifest.write_bytes(encode(manifest.read_text(encoding="utf-8")))
    config(ws, 'policies = ["pol"]\n')
    one_line_error(audit(runner, ws), "manifest.toml", problem)


def test_utf8_bom_is_accepted(runner, ws):
    path = config(ws)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert audit(runner, ws).exit_code in (0, 1)


def test_toml_nested_500_levels(runner, ws):
    path = config(ws)
    path.write_text(path.read_text() + "deep = " + "[" * 500 + "]" * 500 + "\n", encoding="utf-8")
    one_line_error(audit(runner, ws), "cso-policy.toml", "nested too deeply")


# ---------------------------------------------------------------- contracts: zones and terms


@pytest.mark.parametrize("zone", ["America", "Etc", "Nowhere/Atlantis", "../etc"])
def test_contract_zone_that_cannot_be_loaded(runner, ws, zone):
    config(ws)
    ws.contract(timezone=zone)
    one_line_error(audit(runner, ws), str(ws.contract_files[-1]), "$.timezone")


@pytest.mark.parametrize(("term", "key"), [
    ({"start": "2026-01-01", "end": "9999-12-31"}, "$.term.end"),
    ({"start": "0001-01-01", "end": "2026-12-31"}, "$.term.start"),
])
def test_contract_term_beyond_the_supported_bounds(runner, ws, term, key):
    from datetime import date

    config(ws)
    ws.contract(term={k: date.fromisoformat(v) for k, v in term.items()})
    one_line_error(audit(runner, ws), str(ws.contract_files[-1]), key)


# ---------------------------------------------------------------- workspace keys


@pytest.mark.parametrize(("text", "key"), [
    ("policies = [5]\n", "$.policies[0]"),
    ("policies = 5\n", "$.policies"),
    ('as_of = "garbage"\n', "$.as_of"),
    ("as_of = 5\n", "$.as_of"),
    ("as_of = 2026-01-01T00:00:00\n", "$.as_of"),
    ("waivers = 5\n", "$.waivers"),
    ("plugins = [5]\n", "$.plugins[0]"),
    ("plugins = 5\n", "$.plugins"),
    ("[plugins]\nload = [true]\n", "$.plugins.load[0]"),
])
def test_workspace_key_of_the_wrong_type(runner, ws, text, key):
    config(ws, text)
    one_line_error(audit(runner, ws), "cso-policy.toml", key)


@pytest.mark.parametrize(("text", "key"), [
    ('contracts = [5]\nrecords = ["records"]\n', "$.contracts[0]"),
    ('contracts = {a = 1}\nrecords = ["records"]\n', "$.contracts"),
    ('contracts = ["contracts"]\nrecords = [5]\n', "$.records[0]"),
    ('contracts = ["contracts"]\n[[records]]\npath = "records"\nsource = 5\n', "$.records[0].source"),
    ('contracts = ["contracts"]\n[[records]]\npath = 5\nsource = "jsonl"\n', "$.records[0].path"),
])
def test_workspace_lists_of_the_wrong_type(runner, ws, text, key):
    (ws.root / "cso-policy.toml").write_text(text, encoding="utf-8")
    one_line_error(audit(runner, ws), "cso-policy.toml", key)


@pytest.mark.parametrize("value", ['"2026-06-01"', "2026-06-01", "2026-06-01T00:00:00Z", '"2026-06-01T00:00:00+02:00"'])
def test_workspace_as_of_valid_values(runner, ws, value):
    from cso_policy.inputs.workspace import load_workspace

    config(ws, f"as_of = {value}\n")
    assert load_workspace(ws.root).as_of.tzinfo is not None
    assert audit(runner, ws).exit_code in (0, 1)


# ---------------------------------------------------------------- baselines


@pytest.mark.parametrize(("content", "problem"), [
    ("[" * 10_000 + "]" * 10_000, "nested too deeply"),
    ("{", "invalid JSON"),
    ("[]", "no findings list"),
    ('{"findings": 5}', "no findings list"),
    ('{"findings": [5]}', "$.findings[0]"),
    ('{"findings": [{"fingerprint": 5}]}', "$.findings[0].fingerprint"),
    ('{"findings": [{"record": "w1"}]}', "$.findings[0].rule"),
    ('{"findings": [{"rule": "r", "record": 5}]}', "$.findings[0].record"),
])
def test_unusable_baseline(runner, ws, tmp_path, content, problem):
    config(ws)
    path = tmp_path / "base.json"
    path.write_text(content, encoding="utf-8")
    one_line_error(audit(runner, ws, "--baseline", str(path)), str(path), problem)


def test_baseline_not_utf8_or_a_folder(runner, ws, tmp_path):
    config(ws)
    path = tmp_path / "base.json"
    path.write_bytes('{"findings": []}'.encode("utf-16"))
    one_line_error(audit(runner, ws, "--baseline", str(path)), str(path), "must be UTF-8")
    one_line_error(audit(runner, ws, "--baseline", str(tmp_path)), str(tmp_path), "is a folder")
    one_line_error(audit(runner, ws, "--baseline", str(tmp_path / "missing.json")), "missing.json")


# ---------------------------------------------------------------- records globs


def test_symlink_loop_in_a_recursive_glob_is_an_error(runner, ws):
    os.symlink(ws.root / "records", ws.root / "records" / "loop")
    config(ws).write_text('contracts = ["contracts"]\nrecords = ["records/**/*.jsonl"]\n', encoding="utf-8")
    one_line_error(audit(runner, ws), "symlink loop")


def test_symlink_loop_in_a_records_folder_is_an_error(runner, ws):
    os.symlink(ws.root / "records", ws.root / "records" / "loop")
    config(ws)
    one_line_error(audit(runner, ws), "symlink loop")


def test_one_file_reached_twice_is_read_once(ws):
    from cso_policy.inputs.workspace import expand

    (ws.root / "records" / "sub").mkdir()
    os.symlink(ws.root / "records" / "records.jsonl", ws.root / "records" / "sub" / "again.jsonl")
    found = expand("records/**/*.jsonl", ws.root, (".jsonl",))
    assert found == [ws.root / "records" / "records.jsonl"]
    assert expand("records", ws.root, (".jsonl",)) == found


@pytest.mark.parametrize("spec", ["records/*", "records"])
def test_dangling_symlink_matched_is_an_error(runner, ws, spec):
    os.symlink(ws.root / "gone.jsonl", ws.root / "records" / "dangling.jsonl")
    config(ws).write_text(f'contracts = ["contracts"]\nrecords = ["{spec}"]\n', encoding="utf-8")
    one_line_error(audit(runner, ws), "dangling.jsonl", "dangling symlink")


@pytest.mark.parametrize("spec", ["records/*", "records", "records/pipe.jsonl"])
def test_fifo_matched_is_an_error(runner, ws, spec):
    os.mkfifo(ws.root / "records" / "pipe.jsonl")
    config(ws).write_text(f'contracts = ["contracts"]\nrecords = ["{spec}"]\n', encoding="utf-8")
    one_line_error(audit(runner, ws), "pipe.jsonl", "not a regular file")


def test_folder_matched_by_a_glob_is_an_error(runner, ws):
    (ws.root / "records" / "old.jsonl").mkdir()
    config(ws).write_text('contracts = ["contracts"]\nrecords = ["records/*.jsonl"]\n', encoding="utf-8")
    one_line_error(audit(runner, ws), "old.jsonl", "is a folder")


@pytest.mark.parametrize("spec", ["records/*.jsonl", "records"])
def test_symlink_out_of_the_globbed_folder_is_refused(runner, ws, tmp_path, spec):
    outside = tmp_path / "secret.jsonl"
    outside.write_text("", encoding="utf-8")
    os.symlink(outside, ws.root / "records" / "escape.jsonl")
    config(ws).write_text(f'contracts = ["contracts"]\nrecords = ["{spec}"]\n', encoding="utf-8")
    one_line_error(audit(runner, ws), "escape.jsonl", "leads outside")


def test_explicit_path_outside_the_workspace_still_reads(runner, ws, tmp_path):
    # examples/zendesk names ../northwind/contracts/northwind.toml: a file named explicitly is read
    shutil.move(ws.root / "contracts", tmp_path / "shared")
    [contract] = (tmp_path / "shared").glob("*.toml")
    config(ws).write_text(f'contracts = ["../shared/{contract.name}"]\nrecords = ["records"]\n', encoding="utf-8")
    assert audit(runner, ws).exit_code in (0, 1)


def test_zendesk_example_names_a_sibling_contract():
    from cso_policy.inputs.workspace import load_contracts, load_workspace

    root = REPO / "examples" / "zendesk"
    [contract] = load_contracts(load_workspace(root).contracts, root)
    assert contract.id == "NW-2026"


# ---------------------------------------------------------------- outputs


def test_output_into_a_missing_folder(runner, ws, tmp_path):
    config(ws)
    target = tmp_path / "missing" / "report.txt"
    one_line_error(audit(runner, ws, "--output", str(target)), str(target), "does not exist")


def test_output_that_is_a_folder(runner, ws, tmp_path):
    config(ws)
    one_line_error(audit(runner, ws, "--output", str(tmp_path)), str(tmp_path), "is a folder")


def test_output_to_dev_null_is_written_in_place(runner, ws):
    config(ws)
    result = audit(runner, ws, "--output", os.devnull)
    assert result.exit_code in (0, 1), result.output
    assert Path(os.devnull).exists() and not Path(os.devnull).is_file()


def _output_dir_cases(tmp_path: Path) -> list[Path]:
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    return [tmp_path / "a-file", Path(os.devnull), tmp_path / "a-file" / "sub"]


def test_output_dir_that_cannot_be_a_folder_is_one_line(runner, ws, tmp_path):
    config(ws)
    for target in _output_dir_cases(tmp_path):
        result = audit(runner, ws, "--output-dir", str(target), "--format", "json", "--format", "text")
        one_line_error(result, str(target))


def test_output_dir_that_cannot_be_a_folder_is_not_called_a_bug(runner, ws, tmp_path):
    config(ws)
    for target in _output_dir_cases(tmp_path):
        result = audit(runner, ws, "--output-dir", str(target), "--format", "json", "--format", "text")
        line = one_line_error(result, str(target))
        assert "internal error" not in line and "bug" not in line


def test_output_dir_with_a_missing_parent_is_made(runner, ws, tmp_path):
    config(ws)
    target = tmp_path / "new" / "deeper"
    result = audit(runner, ws, "--output-dir", str(target), "--format", "json", "--format", "text")
    assert result.exit_code in (0, 1), result.output
    assert (target / "report.json").is_file()
