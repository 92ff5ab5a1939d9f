"""The audit history store: each run (its reproducible record, its findings, the waivers applied,
who ran it and when) in SQLite or PostgreSQL, through SQLAlchemy.

The schema is versioned with Alembic migrations (``cso_policy/history/migrations``): opening a
store brings an older schema up to date, and refuses one written by a newer cso-policy.
Stored runs are append-only: nothing here updates or deletes, and the database itself refuses
to (triggers).
"""

from __future__ import annotations

import contextlib
import getpass
import json
import math
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path

import orjson
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from ..core.convert import short
from ..errors import ConfigError
from . import DEFAULT_URL

MIGRATIONS = Path(__file__).parent / "migrations"
BATCH = 1000
MONEY_RULES = "billing."  # the rules whose amounts are a run's money (see HistoryStore.add)

METADATA = sa.MetaData()
RUNS = sa.Table(
    "runs", METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workspace", sa.String, nullable=False, index=True),
    sa.Column("ran_at", sa.String, nullable=False),
    sa.Column("ran_by", sa.String, nullable=False),
    sa.Column("tool_version", sa.String, nullable=False),
    sa.Column("as_of", sa.String, nullable=False),
    sa.Column("findings", sa.Integer, nullable=False),
    sa.Column("waived", sa.Integer, nullable=False),
    sa.Column("hours", sa.Float, nullable=False),
    sa.Column("amounts", sa.Text, nullable=False),
    sa.Column("record", sa.Text, nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
)
FINDINGS = sa.Table(
    "findings", METADATA,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("rule", sa.String, nullable=False),
    sa.Column("level", sa.String, nullable=False),
    sa.Column("contract", sa.String),
    sa.Column("record", sa.String),
    sa.Column("fingerprint", sa.String, nullable=False, index=True),
    sa.Column("waived", sa.Boolean, nullable=False),
    sa.Column("finding", sa.Text, nullable=False),
)


def _alembic(connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def shown(url: str) -> str:
    """*url* without its password, for messages."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "(an invalid URL)"


class HistoryStore:
    """An open store at *url* (see the module)."""

    def __init__(self, url: str = DEFAULT_URL):
        self.url = url
        try:
            self.engine = sa.create_engine(url)
            with self.engine.begin() as connection:
                self._migrate(connection)
        except ConfigError:
            raise
        except (sa.exc.SQLAlchemyError, ImportError) as exc:
            raise ConfigError(f"--store {shown(url)}: cannot open the history store "
                              f"({type(exc).__name__}: {str(exc).splitlines()[0]})") from None

    def _migrate(self, connection) -> None:
        config = _alembic(connection)
        script = ScriptDirectory.from_config(config)
        head = script.get_current_head()
        current = MigrationContext.configure(connection).get_current_revision()
        known = {revision.revision for revision in script.walk_revisions()}
        if current is not None and current not in known:
            raise ConfigError(f"--store {shown(self.url)}: written by a newer cso-policy (schema {current}; this "
                              f"one knows up to {head}); upgrade cso-policy to use it")
        if current != head:
            command.upgrade(config, "head")

    def add(self, workspace: str, report, record: dict, summary: dict) -> int:
        """Store one run and its findings; returns its id."""
        # The money of a run is what its invoice checks (billing.*) name: the entitlement rules
        # name the same hours at the same rate, and adding both would count them twice.
        amounts: dict[str, float] = {}
        hours = 0.0
        for rule, entry in summary["by_rule"].items():
            if not rule.startswith(MONEY_RULES):
                continue
            hours += entry["hours"]
            for currency, amount in entry["amounts"].items():
                amounts[str(currency)] = round(amounts.get(str(currency), 0.0) + amount, 2)
        row = {
            "workspace": workspace,
            "ran_at": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
            "ran_by": _user(),
            "tool_version": record["tool"]["version"],
            "as_of": record["command"]["as_of"],
            "findings": summary["findings"],
            "waived": summary["waived"],
            "hours": round(hours, 4),
            "amounts": json.dumps(dict(sorted(amounts.items()))),
            "record": orjson.dumps(record).decode(),
            "summary": orjson.dumps(summary, option=orjson.OPT_NON_STR_KEYS).decode(),
        }
        try:
            return self._insert(row, report)
        except sa.exc.SQLAlchemyError as exc:  # nothing of the run is kept: one transaction
            raise ConfigError(f"--store {shown(self.url)}: cannot keep the run in the history store "
                              f"({type(exc).__name__}: {str(exc).splitlines()[0]})") from None

    def _insert(self, row: dict, report) -> int:
        with self.engine.begin() as connection:
            run_id = connection.execute(sa.insert(RUNS).values(**row)).inserted_primary_key[0]
            batch = []
            for position, finding in enumerate(report.findings):
                batch.append({"run_id": run_id, "position": position, "rule": finding.rule, "level": str(finding.level),
                              "contract": finding.contract, "record": finding.record,
                              "fingerprint": finding.fingerprint, "waived": finding.waived,
                              "finding": orjson.dumps(finding.as_dict()).decode()})
                if len(batch) >= BATCH:
                    connection.execute(sa.insert(FINDINGS), batch)
                    batch = []
            if batch:
                connection.execute(sa.insert(FINDINGS), batch)
        return run_id

    def runs(self, workspace: str | None = None) -> list[dict]:
        """The stored runs (of *workspace*, or all), oldest first; a row that is not what this
        store writes (edited by hand, damaged) is a one-line error naming it."""
        query = sa.select(RUNS.c.id, RUNS.c.workspace, RUNS.c.ran_at, RUNS.c.ran_by, RUNS.c.tool_version,
                          RUNS.c.as_of, RUNS.c.findings, RUNS.c.waived, RUNS.c.hours, RUNS.c.amounts).order_by(RUNS.c.id)
        if workspace is not None:
            query = query.where(RUNS.c.workspace == workspace)
        with self._reading() as connection:
            # str(): SQLAlchemy's column names are a str subclass that orjson will not take as keys
            return [self._checked({**{str(k): v for k, v in row._asdict().items()}})
                    for row in connection.execute(query)]

    def _checked(self, run: dict) -> dict:
        def damaged(what: str):
            return ConfigError(f"--store {shown(self.url)}: run {run.get('id')!r} is damaged ({what}); "
                               "the store holds something cso-policy did not write")

        try:
            amounts = json.loads(run["amounts"])
        except (TypeError, ValueError, RecursionError):
            raise damaged(f"amounts {short(run['amounts'])} is not JSON") from None
        if not isinstance(amounts, dict) or not all(isinstance(k, str) and _number(v) for k, v in amounts.items()):
            raise damaged(f"amounts {short(run['amounts'])} is not a table of currency amounts")
        for name in ("findings", "waived"):
            if type(run[name]) is not int:
                raise damaged(f"{name} {short(run[name])} is not a whole number")
        if not _number(run["hours"]):
            raise damaged(f"hours {short(run['hours'])} is not a number")
        for name in ("workspace", "ran_at", "ran_by", "tool_version", "as_of"):
            if not isinstance(run[name], str):
                raise damaged(f"{name} {short(run[name])} is not text")
        return {**run, "amounts": amounts}

    def last(self, workspace: str) -> int | None:
        with self._reading() as connection:
            return connection.execute(sa.select(sa.func.max(RUNS.c.id)).where(RUNS.c.workspace == workspace)).scalar()

    def fingerprints(self, run_id: int) -> set[str]:
        with self._reading() as connection:
            rows = connection.execute(sa.select(FINDINGS.c.fingerprint).where(FINDINGS.c.run_id == run_id))
            found = {row.fingerprint for row in rows}
        if not all(isinstance(f, str) for f in found):
            raise ConfigError(f"--store {shown(self.url)}: the findings of run {run_id} are damaged (a fingerprint "
                              "that is not text); the store holds something cso-policy did not write")
        return found

    @contextlib.contextmanager
    def _reading(self):
        """A connection; what the database refuses (a table dropped by hand) is one line."""
        try:
            with self.engine.connect() as connection:
                yield connection
        except sa.exc.SQLAlchemyError as exc:
            raise ConfigError(f"--store {shown(self.url)}: cannot read the history store "
                              f"({type(exc).__name__}: {str(exc).splitlines()[0]})") from None

    def close(self) -> None:
        self.engine.dispose()


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in this environment
        return "unknown"


def workspace_key(workspace, contract_ids: Iterable[str]) -> str:
    """What makes two runs runs of the same workspace: its folder, or without one its contracts."""
    if workspace is not None:
        return str(Path(workspace).resolve())
    return "contracts " + ", ".join(sorted(contract_ids))


__all__ = ["DEFAULT_URL", "HistoryStore", "shown", "workspace_key"]


def _number(value) -> bool:
    return type(value) in (int, float) and math.isfinite(value)

