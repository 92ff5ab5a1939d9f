"""The SQL record source: rows of a database table or query, read with SQLAlchemy.

``[[records]] source = "sql"`` with ``url_env`` (the name of an environment variable holding
the database URL) or ``url`` (a URL without a password, e.g. ``sqlite:///exports/cso.db``), and
``table`` (the mapped columns of one table) or ``query`` (any SELECT). Every row is one record
of ``kind``; the column map, constants and cell conversions are the table options every table
source shares (:mod:`cso_policy.inputs.tabular`). Typed columns (NUMERIC, DATE, TIMESTAMP WITH
TIME ZONE, BOOLEAN...) are converted from the values the database driver gives, not from text;
a TIMESTAMP without a time zone is in ``timezone``.

Rows are streamed (a server-side cursor where the database has one), ``batch`` rows at a time,
so memory stays flat whatever the table's size. A row is "line" N of the input: its 1-based row
number. The input is named by :meth:`SqlOptions.location`: the URL without user, password or
query parameters, and the table or the query, e.g. ``sql postgresql://db.example.com/cso
(table time_entries)``.

Credentials are never printed: a ``url`` with a password in the workspace file is refused (put
the URL in an environment variable and name it in ``url_env``), and every message this source
writes names the database by its location and has the password masked.

A database that cannot be opened or a query that fails before the first row (a wrong URL or
password, an unknown table, an SQL error) is a configuration error (exit 2, one line); a failure
after rows were delivered (a dropped connection) is that input's failure, reported with what it
delivered.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

from attrs import define

from ..errors import ConfigError
from ..markers import hookimpl
from .sources import BadLine, RawRecord, RecordSource
from .tabular import CellError, RowMapper, TableOptions


class SqlReadError(RuntimeError):
    """The database failed after the first rows were delivered (the message has no credentials)."""


@define
class SqlOptions(TableOptions):
    """The options of the ``sql`` source (see the module), besides the table options.

    :param url: the SQLAlchemy database URL (``sqlite:///path/to.db``,
        ``postgresql+psycopg://host/db``); without a password: one in a URL here is refused.
    :param url_env: the name of an environment variable holding the URL (may hold a password).
    :param query: the SELECT whose rows are the records.
    :param table: the table (``name`` or ``schema.name``) whose rows are the records; only
        the columns the column map reads are selected.
    :param batch: rows fetched from the database at a time.
    """

    url: str | None = None
    url_env: str | None = None
    query: str | None = None
    table: str | None = None
    batch: int = 1000

    def problems(self, path) -> list[tuple[str, str]]:
        if (self.url is None) == (self.url_env is None):
            return [("$.url", "give exactly one of url (a URL without a password) and url_env "
                              "(the name of an environment variable holding the URL)")]
        if (self.query is None) == (self.table is None):
            return [("$.query", "give exactly one of query (a SELECT) and table (a table name)")]
        if self.query is not None and not self.query.strip():
            return [("$.query", "must not be empty")]
        if self.table is not None and not self.table.strip():
            return [("$.table", "must not be empty")]
        if self.batch < 1:
            return [("$.batch", f"expected a number of rows above 0, got {self.batch}")]
        if self.url_env is not None and not os.environ.get(self.url_env):
            return [("$.url_env", f"the environment variable {self.url_env} is not set")]
        try:
            url = _parse(self.database_url())
        except ConfigError as exc:
            return [("$.url_env" if self.url_env is not None else "$.url", str(exc))]
        if self.url is not None and _has_secret(url):
            return [("$.url", "holds a password: put the URL in an environment variable and name it in "
                              "url_env, so that it is neither in the workspace nor printed")]
        return super().problems(path)

    def database_url(self) -> str:
        """The URL, from ``url`` or the environment variable ``url_env``."""
        if self.url is not None:
            return self.url
        return os.environ.get(self.url_env or "", "")

    def location(self, path) -> str:
        """What names this input in the summary and in findings: the database without
        credentials, and the table or the query (so two entries of one database differ)."""
        try:
            database = _public(_parse(self.database_url()))
        except ConfigError:
            database = f"${self.url_env}" if self.url_env else "?"
        if self.table is not None:
            what = f"table {self.table}"
        else:
            what = f"query {_short_query(self.query or '')}"
        if self.kind:
            what += f", kind {self.kind}"
        return f"sql {database} ({what})"


def _parse(text: str):
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(text)
    except (ArgumentError, ValueError):
        raise ConfigError("not a database URL (expected dialect://host/database or sqlite:///path)") from None


def _has_secret(url) -> bool:
    return bool(url.password) or any("password" in key.lower() for key in url.query)


def _public(url) -> str:
    """*url* with only the dialect, host, port and database: no user, password or parameters."""
    from sqlalchemy.engine import URL

    bare = URL.create(url.drivername, host=url.host, port=url.port, database=url.database)
    return bare.render_as_string(hide_password=True)


def _short_query(query: str, width: int = 60) -> str:
    """The query on one line; a long one cut, with a digest of the whole so two differ."""
    text = re.sub(r"\s+", " ", query).strip()
    if len(text) <= width:
        return text
    digest = hashlib.sha256(query.encode("utf-8")).hexdigest()[:8]
    return f"{text[:width]}... #{digest}"


def _secrets(url) -> list[str]:
    found = [url.password] if url.password else []
    found += [str(v) for key, v in url.query.items() if "password" in key.lower() and v]
    return [s for s in found if s]


def _message(exc: BaseException, secrets: list[str]) -> str:
    """The error on one line, without SQLAlchemy's background links and with secrets masked."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith(("(Background on this error", "[SQL:", "[parameters:"))]
    text = " ".join(lines) or type(exc).__name__
    for secret in secrets:
        text = text.replace(secret, "***")
    return text if len(text) <= 300 else text[:297] + "..."


def read_sql(path: Path | None, options: SqlOptions) -> Iterator[RawRecord]:
    """One record a row, *batch* rows fetched at a time; a row whose cells cannot be converted
    is a :class:`BadLine` naming the column."""
    import sqlalchemy
    from sqlalchemy import exc as sa_exc

    if not isinstance(options, SqlOptions):
        raise ConfigError("the sql source needs its options (kind, url or url_env, query or table)")
    name = options.location(path)
    url = _parse(options.database_url())
    secrets = _secrets(url)

    def failed(exc: BaseException) -> ConfigError:
        return ConfigError(f"{name}: {_message(exc, secrets)}")

    mapper = RowMapper(options)
    delivered = 0
    try:
        engine = sqlalchemy.create_engine(_with_driver(url))
    except (sa_exc.SQLAlchemyError, ImportError, ValueError, TypeError) as exc:
        raise failed(exc) from None
    try:
        with engine.connect() as conn:
            streaming = conn.execution_options(stream_results=True, yield_per=options.batch)
            statement = _statement(conn, options, mapper) if options.table is not None \
                else sqlalchemy.text(options.query)
            # yield_per on the result: fixed batches (the execution option alone starts at one
            # row and grows the buffer five-fold)
            result = streaming.execute(statement).yield_per(options.batch)
            missing = mapper.missing_columns(result.keys())
            if missing:
                raise ConfigError(f"{name}: no column {', '.join(repr(c) for c in missing)} "
                                  f"(columns: {', '.join(result.keys())})")
            for row in result.mappings():
                delivered += 1
                try:
                    yield name, delivered, mapper.record(row)
                except CellError as exc:
                    yield name, delivered, BadLine(str(exc))
    except ConfigError:
        raise
    except (sa_exc.SQLAlchemyError, ImportError, OSError) as exc:
        if delivered == 0:
            raise failed(exc) from None
        raise SqlReadError(f"{name}: {_message(exc, secrets)}") from None
    finally:
        engine.dispose()


def _with_driver(url):
    """``postgresql://`` is psycopg2 for SQLAlchemy; with only psycopg (3) installed, use it."""
    import importlib.util

    if url.drivername == "postgresql" and importlib.util.find_spec("psycopg2") is None \
            and importlib.util.find_spec("psycopg") is not None:
        return url.set(drivername="postgresql+psycopg")
    return url


def _statement(conn, options: SqlOptions, mapper: RowMapper):
    """SELECT the columns of ``table`` that the column map reads (a table without one of the
    columns the map names explicitly is a ConfigError)."""
    import sqlalchemy

    schema, _, table = options.table.strip().rpartition(".")
    schema = schema or None
    inspector = sqlalchemy.inspect(conn)
    if not inspector.has_table(table, schema=schema):
        raise ConfigError(f"{options.location(None)}: no table {options.table!r} in the database")
    present = [c["name"] for c in inspector.get_columns(table, schema=schema)]
    missing = mapper.missing_columns(present)
    if missing:
        raise ConfigError(f"{options.location(None)}: no column {', '.join(repr(c) for c in missing)} "
                          f"in table {options.table} (columns: {', '.join(present)})")
    wanted = set(mapper.columns())
    columns = [sqlalchemy.column(c) for c in present if c in wanted]
    if not columns:
        raise ConfigError(f"{options.location(None)}: table {options.table} has none of the columns of "
                          f"{options.kind} records (columns: {', '.join(present)})")
    return sqlalchemy.select(*columns).select_from(sqlalchemy.table(table, schema=schema))


SQL = RecordSource(
    name="sql",
    read=read_sql,
    description="SQL databases (SQLAlchemy): the rows of a table or a query, one record a row",
    options=SqlOptions,
)


@hookimpl
def cso_policy_record_sources():
    return [SQL]


__all__ = ["SQL", "SqlOptions", "SqlReadError", "read_sql"]
