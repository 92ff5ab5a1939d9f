"""Shared helpers for the core tests: a contract builder, record builders, a JSONL writer
and ``audit_records`` which runs the real pipeline (plugins -> catalogue -> cso_policy.app.audit).

Numbers in the tests come from the seed (``seed/cso-terms.txt``); the comment next to
each case shows the arithmetic.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import attrs
import pytest

from click.testing import CliRunner
from dateutil.relativedelta import relativedelta
from pyfakefs.helpers import get_uid, set_uid

from cso_policy import testing
from cso_policy.core import pipeline as app, convert
from cso_policy.core.pipeline import Catalogue
from cso_policy.core.model import Contract, Finding, Overage, Package, Term
from cso_policy.plugins import get_plugin_manager
from cso_policy.policy.registry import builtin_policy_root
from cso_policy.inputs.workspace import RecordInput
from tests.postgres import pg_server, postgresql  # noqa: F401  (a real PostgreSQL for the session)

# cattrs registers hooks for pathlib.Path when a converter is built; under pyfakefs ``Path`` is a
# fake, so build (and cache) the converter and record structurers before any fake file system.
convert.converter()
testing._default_structurer()
# Likewise the time zones the tests use: ZoneInfo keeps a weak cache, so holding the instances
# here means a contract's time zone resolves without reading tz files inside pyfakefs.
ZONES = [ZoneInfo(name) for name in ("America/New_York", "Europe/London", "UTC")]

POLICY = "liveperson-cso@1.0"
CONTRACT = "C-1"
START = date(2026, 1, 1)
RATE = 240.0
AGREED = Overage(rate=RATE, currency="USD", agreement="SOW-114")
POLICY_ROOT = builtin_policy_root()


# ------------------------------------------------------------------ contracts


def make_contract(
    id: str = CONTRACT,
    *,
    tier: str = "premier",
    lobs: Iterable[str] = ("a",),
    packages: Iterable[tuple[str, str, Iterable[str]]] | None = None,
    start: date = START,
    end: date | None = None,
    overage: Overage | None = AGREED,
    timezone: str = "America/New_York",
    holidays: str | None = None,
    policy: str = POLICY,
    path: str = "",
) -> Contract:
    """One contract; by default one ``tier`` package ``p1`` for ``lobs`` and a one-year term.

    ``packages`` = [(package id, tier, [lob, ...]), ...] replaces the single package.
    """
    if packages is None:
        packages = [("p1", tier, lobs)]
    return Contract(
        id=id,
        customer=f"Customer {id}",
        policy=policy,
        term=Term(start=start, end=end or (start + relativedelta(years=1) - timedelta(days=1))),
        timezone=timezone,
        holidays=holidays,
        overage=overage,
        packages=[Package(id=pid, tier=t, lines_of_business=list(ls)) for pid, t, ls in packages],
        path=path,
    )


def contract_toml(contract: Contract) -> str:
    """The TOML text of *contract* (the contract file format), written by the test kit."""
    data = attrs.asdict(contract, recurse=True)
    data.pop("path")
    return testing.toml_text(data)


def write_contract(path: Path, contract: Contract | str) -> Path:
    """Write a contract (a Contract, or raw TOML text) to *path*, creating folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(contract if isinstance(contract, str) else contract_toml(contract), encoding="utf-8")
    return path


# ------------------------------------------------------------------ records


def _day(value) -> str:
    return value.isoformat() if isinstance(value, (date, datetime)) else value


def work(id, day, hours, *, lob="a", service="general_account_consulting", contract=CONTRACT, **extra) -> dict:
    return {"kind": "work", "id": id, "contract": contract, "date": _day(day), "lob": lob, "hours": hours,
            "service": service, **extra}


def delivery(id, day, deliverable, *, lob="a", contract=CONTRACT, **extra) -> dict:
    return {"kind": "delivery", "id": id, "contract": contract, "date": _day(day), "lob": lob,
            "deliverable": deliverable, **extra}


def ticket(id, opened_at, *, channel="web", severity="P3", lob="a", contract=CONTRACT, **extra) -> dict:
    return {"kind": "ticket", "id": id, "contract": contract, "lob": lob, "severity": severity,
            "opened_at": opened_at, "channel": channel, **extra}


def expense(id, day, amount, approved_at, *, currency="USD", lob="a", contract=CONTRACT, **extra) -> dict:
    return {"kind": "expense", "id": id, "contract": contract, "date": _day(day), "lob": lob, "amount": amount,
            "currency": currency, "approved_at": approved_at, **extra}


def invoice(id, item, *, period="2026-Q1", quantity=1.0, rate=RATE, amount=None, currency="USD", ref=None,
            lob="a", contract=CONTRACT) -> dict:
    line = {"kind": "invoice_line", "id": id, "contract": contract, "lob": lob, "period": period, "item": item,
            "quantity": quantity, "rate": rate, "amount": quantity * rate if amount is None else amount,
            "currency": currency}
    if ref is not None:
        line["ref"] = ref
    return line


def spread_work(prefix: str, quarter_hours: Iterable[float], *, start: date = START, lob="a", **extra) -> list[dict]:
    """One work record per contract quarter, dated in the quarter's first month, ids prefix-q1.."""
    return [
        work(f"{prefix}-q{i + 1}", start + relativedelta(months=3 * i, days=5), hours, lob=lob, **extra)
        for i, hours in enumerate(quarter_hours)
    ]


def write_records(path: Path, records: Iterable[dict | str]) -> Path:
    """Write JSON Lines: a dict becomes one JSON object line, a str is written as the line itself."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for r in records:
            fh.write((r if isinstance(r, str) else json.dumps(r)) + "\n")
    return path


# ------------------------------------------------------------------ running audits


def catalogue() -> Catalogue:
    return Catalogue.from_plugins(get_plugin_manager())


def audit_records(
    contracts: Contract | Iterable[Contract],
    records: Iterable[dict | str] | Iterable[Iterable[dict | str]],
    as_of: datetime | None = None,
    select: Iterable[str] | None = None,
    *,
    ignore: Iterable[str] = (),
    files: bool = False,
) -> list[Finding]:
    """Audit *records* (written to ``records.jsonl``; with ``files=True`` *records* is a list of
    record lists, written to ``records-1.jsonl``, ``records-2.jsonl``...) against *contracts*
    through the real pipeline; return the (sorted) findings."""
    cat = catalogue()
    contracts = [contracts] if isinstance(contracts, Contract) else list(contracts)
    with tempfile.TemporaryDirectory() as tmp:
        if files:
            paths = [write_records(Path(tmp) / f"records-{n}.jsonl", rs) for n, rs in enumerate(records, 1)]
        else:
            paths = [write_records(Path(tmp) / "records.jsonl", records)]
        result, _ = app.audit(
            cat, contracts, [RecordInput(path=p) for p in paths], rules=cat.select(select or (), ignore), as_of=as_of
        )
    return result.findings


def of(findings: Iterable[Finding], rule: str) -> list[Finding]:
    """The findings of one rule."""
    return [f for f in findings if f.rule == rule]


def rules_of(findings: Iterable[Finding]) -> set[str]:
    return {f.rule for f in findings}


def only(findings: Iterable[Finding], rule: str) -> Finding:
    """The single finding of *rule* (fails if there are none or several)."""
    found = of(findings, rule)
    assert len(found) == 1, [f.as_dict() for f in findings]
    return found[0]


def assert_exit_2(result, *parts: str, one_line: bool = False) -> None:
    """A CLI run that stopped with exit code 2: *parts* on stderr, no traceback; with *one_line*,
    stderr is the single line ``cso-policy: error: ...`` (input and configuration errors)."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for part in parts:
        assert part in result.stderr
    if one_line:
        assert len(result.stderr.splitlines()) == 1, result.stderr
        assert result.stderr.startswith("cso-policy: error: ")


# ------------------------------------------------------------------ fixtures

# pyfakefs: ``@NON_ROOT`` on a test taking ``fs`` runs it as a regular user (uid 1), so that a
# chmod 000 file really is unreadable (pyfakefs otherwise takes the real uid, and root reads anything).
NON_ROOT = pytest.mark.parametrize("fs", [[None, None, None, False]], indirect=True, ids=["non-root"])
# CLI runs see only the built-in plugins, whatever is installed in the environment.
CLI_ENV = {"CSO_POLICY_DISABLE_PLUGIN_AUTOLOAD": "1"}


def add_real_data(fs) -> None:
    """Make the bundled policies visible inside a pyfakefs file system (copied in eagerly and as
    root, so that a NON_ROOT test can read them too)."""
    uid = get_uid()
    set_uid(0)
    try:
        fs.add_real_directory(str(POLICY_ROOT), lazy_read=False)
    finally:
        set_uid(uid)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner(env=CLI_ENV)


@pytest.fixture
def make_workspace(tmp_path):
    """``make_workspace(contracts, records)`` -> a folder with cso-policy.toml, contracts/ and records/."""

    def make(contracts: Iterable[Contract], records: Iterable[dict | str], name: str = "ws") -> Path:
        root = tmp_path / name
        for c in contracts:
            write_contract(root / "contracts" / f"{c.id}.toml", c)
        write_records(root / "records" / "records.jsonl", records)
        (root / "cso-policy.toml").write_text('contracts = ["contracts"]\nrecords = ["records/*.jsonl"]\n')
        return root

    return make
