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
