"""The pre-commit hook (.pre-commit-hooks.yaml, id cso-policy-lint), run for real with
`pre-commit try-repo` in a temporary git repository holding a good and a bad contract.

try-repo builds the hook's virtualenv and pip-installs this repository into it (from
PyPI for the dependencies), so it takes a while; the subprocess timeout is generous.

The hook repository is a snapshot of this repository's working tree (tracked and
untracked, not ignored, files) committed in a temporary git repository: try-repo on a
dirty work tree would commit only tracked changes (`git add -u`), leaving out new
modules that the tracked ones import.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 300  # seconds for one try-repo run (venv creation and pip install)

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

GOOD = """\
id = "NW-2026"
customer = "Northwind Retail"
policy = "liveperson-cso@1.0"
term = { start = 2026-01-01, end = 2026-12-31 }
renewal_of = "NW-2025"
timezone = "America/New_York"
holidays = "US"
overage = { rate = 240.0, currency = "USD", agreement = "SOW-114" }

[[packages]]
id = "nw-expert"
tier = "expert"
lines_of_business = ["retail", "outlet"]

[[expansion_purchases]]
package = "nw-expert"
kind = "intermediate"
hours = 40
purchased_on = 2026-01-01
"""
BAD = GOOD.replace('tier = "expert"', 'tier = "Premeir"')  # line 12


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    env.update(
        GIT_AUTHOR_NAME="cso-policy tests", GIT_AUTHOR_EMAIL="tests@example.invalid",
        GIT_COMMITTER_NAME="cso-policy tests", GIT_COMMITTER_EMAIL="tests@example.invalid",
        GIT_CONFIG_NOSYSTEM="1", HOME=str(tmp / "home"),  # no user or system git config
        PRE_COMMIT_HOME=str(tmp / "pre-commit-home"),
    )
    (tmp / "home").mkdir(exist_ok=True)
    return env


def _git(cwd: Path, env: dict, *args: str) -> None:
    subprocess.run(["git", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args],
                   cwd=cwd, env=env, check=True, capture_output=True, timeout=60)


def _snapshot_repo(dest: Path, env: dict) -> Path:
    """This repository's working tree committed in a new git repository at *dest*."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=REPO, capture_output=True, timeout=60)
    if listed.returncode == 0:
        files = sorted({f for f in listed.stdout.decode().split("\0") if f})
        for name in files:
            src = REPO / name
            if src.is_file():  # tracked files deleted in the work tree are listed too
                (dest / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dest / name)
    else:  # not a git checkout (e.g. an unpacked sdist): copy the tree
        shutil.copytree(REPO, dest, ignore=shutil.ignore_patterns(
            ".git", "__pycache__", "*.egg-info", ".venv", "venv", "build", "dist", ".pytest_cache"))
    _git(dest, env, "init", "-q")
    _git(dest, env, "add", "-A")
    _git(dest, env, "commit", "-q", "-m", "snapshot")
    return dest


@pytest.fixture(scope="module")
def repos(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("precommit")
    env = _env(tmp)
    hook_repo = _snapshot_repo(tmp / "hook-repo", env)
    work = tmp / "contracts-repo"
    work.mkdir()
    _git(work, env, "init", "-q")
    (work / "good.toml").write_text(GOOD, encoding="utf-8")
    (work / "bad.toml").write_text(BAD, encoding="utf-8")
    _git(work, env, "add", "good.toml", "bad.toml")
    _git(work, env, "commit", "-q", "-m", "contracts")
    return hook_repo, work, env


def try_repo(repos, *files: str) -> subprocess.CompletedProcess:
    hook_repo, work, env = repos
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), "cso-policy-lint", "--files", *files],
        cwd=work, env=env, capture_output=True, text=True, timeout=TIMEOUT,
    )


def test_hook_passes_a_good_contract(repos):
    result = try_repo(repos, "good.toml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "cso-policy lint" in result.stdout and "Passed" in result.stdout


def test_hook_fails_a_bad_contract_naming_the_bad_value(repos):
    result = try_repo(repos, "bad.toml")
    assert result.returncode != 0, result.stdout + result.stderr
    assert "Failed" in result.stdout
    assert ("bad.toml:12:1: contract.unknown_tier unknown tier 'Premeir' (expected one of foundations, "
            "fundamentals, premier, expert, strategic); did you mean 'premier'?") in result.stdout


def test_hook_skips_files_it_does_not_match(repos):
    # files: '(\.toml|(^|/)LOCK)$' and cso-policy.toml is excluded: the hook does not run at all
    hook_repo, work, env = repos
    (work / "cso-policy.toml").write_text('contracts = ["."]\n', encoding="utf-8")
    result = try_repo(repos, "cso-policy.toml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "(no files to check)Skipped" in result.stdout


README = REPO / "README.md"
WAIVERS = """\
[[waiver]]
rule = "entitlement.frequency"
contract = "NW-2026"
record = "d-0066"
reason = "second account plan agreed with the customer"
approved_by = "finance@northwind.example"
expires = 2026-12-31
"""


def _readme_snippet() -> str:
    """The README's .pre-commit-config.yaml, as printed."""
    text = README.read_text(encoding="utf-8")
    start = text.index("As a pre-commit hook")
    block = text[text.index("```yaml\n", start) + len("```yaml\n"):]
    return block[:block.index("```")]


def test_the_readme_snippet_works_as_printed(repos, tmp_path):
    """Pasted into a new repository with only the repository location and revision replaced:
    a contract, the workspace file and a waivers file pass; a bad contract fails, named."""
    hook_repo, _, env = repos
    rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=hook_repo, env=env, capture_output=True, text=True,
                         check=True).stdout.strip()
    snippet = _readme_snippet()
    assert snippet.startswith("repos:\n")
    config = snippet.replace("https://github.com/your-org/cso-policy", str(hook_repo)).replace("v0.1.0", rev)
    assert config != snippet and config.count(rev) == 1
    work = tmp_path / "contracts"
    work.mkdir()
    _git(work, env, "init", "-q")
    (work / ".pre-commit-config.yaml").write_text(config, encoding="utf-8")
    (work / "northwind.toml").write_text(GOOD, encoding="utf-8")
    (work / "cso-policy.toml").write_text('contracts = ["*.toml"]\nwaivers = "waivers.toml"\n', encoding="utf-8")
    (work / "waivers.toml").write_text(WAIVERS, encoding="utf-8")
    _git(work, env, "add", "-A")
    run = [sys.executable, "-m", "pre_commit", "run", "--all-files"]
    passed = subprocess.run(run, cwd=work, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "cso-policy lint" in passed.stdout and "Passed" in passed.stdout
    (work / "bad.toml").write_text(BAD, encoding="utf-8")
    (work / "waivers.toml").write_text(WAIVERS.replace("expires = 2026-12-31", "expires = \"someday\""), encoding="utf-8")
    _git(work, env, "add", "-A")
    failed = subprocess.run(run, cwd=work, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "bad.toml:12:1: contract.unknown_tier unknown tier 'Premeir'" in failed.stdout
    assert "waivers.toml" in failed.stdout and "expires" in failed.stdout
