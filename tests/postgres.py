"""A real PostgreSQL server for the tests, started and stopped by the test session.

``pg_server`` (session) runs ``initdb`` in a new temporary folder and ``pg_ctl start`` on a free
port (TCP on 127.0.0.1 with password authentication, the unix socket in that folder), and stops
it and removes the folder at the end. ``postgresql`` (per test, pytest-postgresql's client
fixture) is a psycopg connection to a fresh database made from the server's template database,
dropped after the test.

PostgreSQL refuses to run as root (``initdb`` and ``pg_ctl`` stop with "cannot be run as
root"): when the tests run as root (CI in a container), the server's commands run as the
``postgres`` account when there is one (the Debian packages create it), else as ``nobody``,
and the folder belongs to that account. Nothing else is needed: no ``su``, no sudo.

The binaries are found on PATH (``pg_ctl``), else in the newest
``/usr/lib/postgresql/<version>/bin`` (Debian), or in ``$PG_BINDIR``.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg
import pytest
from attrs import define
from pytest_postgresql import factories

PASSWORD = "s3cret-Pg-pw"  # the server's only password; tests check it is never printed
USER = "auditor"
DBNAME = "cso_test"


@define
class PgServer:
    """Connection details in the shape pytest-postgresql's client fixture reads."""

    host: str
    port: int
    user: str
    password: str
    dbname: str
    options: str = ""
    maintenance_dbname: str = "postgres"

    @property
    def template_dbname(self) -> str:
        return f"{self.dbname}_tmpl"

    def url(self, dbname: str | None = None, password: str | None = None) -> str:
        """A SQLAlchemy URL of database *dbname* (default: the test database)."""
        return (f"postgresql+psycopg://{self.user}:{password or self.password}@{self.host}:{self.port}/"
                f"{dbname or self.dbname}")


def bindir() -> Path:
    """Where pg_ctl and initdb are."""
    if os.environ.get("PG_BINDIR"):
        return Path(os.environ["PG_BINDIR"])
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parent.parent.name))
    if versions:
        return Path(versions[-1]).parent
    raise RuntimeError("PostgreSQL is not installed: no pg_ctl on PATH nor in /usr/lib/postgresql/*/bin "
                       "(Debian: apt-get install postgresql)")


def _account() -> dict:
    """subprocess arguments that run the server's commands as a non-root account when root."""
    if os.geteuid() != 0:
        return {}
    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
    raise RuntimeError("running as root, and there is no postgres or nobody account to run PostgreSQL as")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(folder: Path) -> tuple[PgServer, callable]:
    """Start a server with its data in *folder* (which must exist); returns it and a stop function."""
    bins = bindir()
    account = _account()
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8", "TZ": "UTC"}
    env.pop("PGDATA", None)
    if account:
        os.chown(folder, account["user"], account["group"])
        env["HOME"] = str(folder)
    os.chmod(folder, 0o700)
    pwfile = folder / "pwfile"
    pwfile.write_text(PASSWORD + "\n")
    if account:
        os.chown(pwfile, account["user"], account["group"])
    data, log, port = folder / "data", folder / "server.log", _free_port()

    def run(*args: str, timeout: float = 120) -> None:
        done = subprocess.run([str(a) for a in args], env=env, cwd=folder, capture_output=True, text=True,
                              timeout=timeout, **account)
        if done.returncode != 0:
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{Path(args[0]).name} {args[1] if len(args) > 1 else ''} failed "
                               f"({done.returncode}): {done.stderr or done.stdout}\n{tail}")

    run(bins / "initdb", "-D", data, "-U", USER, "--pwfile", pwfile, "--auth", "scram-sha-256",
        "-E", "UTF8", "--locale", "C.UTF-8", "--no-sync")
    pwfile.unlink()
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c TimeZone=UTC"
    run(bins / "pg_ctl", "-D", data, "-l", log, "-o", options, "-w", "-t", "60", "start")

    def stop() -> None:
        run(bins / "pg_ctl", "-D", data, "-m", "fast", "-w", "-t", "60", "stop")

    return PgServer(host="127.0.0.1", port=port, user=USER, password=PASSWORD, dbname=DBNAME), stop


@pytest.fixture(scope="session")
def pg_server():
    """A PostgreSQL server for the session, with an empty template database for ``postgresql``."""
    folder = Path(tempfile.mkdtemp(prefix="cso-policy-pg-"))
    try:
        server, stop = start_server(folder)
        try:
            with psycopg.connect(host=server.host, port=server.port, user=server.user, password=server.password,
                                 dbname=server.maintenance_dbname, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{server.template_dbname}"')
            yield server
        finally:
            stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


postgresql = factories.postgresql("pg_server")
"""A psycopg connection to a fresh database (``pg_server.dbname``), dropped after the test."""
