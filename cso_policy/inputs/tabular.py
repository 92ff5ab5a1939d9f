"""Records from tables: CSV files, SQL rows, Parquet batches.

A table holds one record kind (``kind``). Each record field is read from the column the column
map names (``columns = { id = "Entry ID", hours = "Hours" }``; by default the column named as
the field), or set to a constant for every row (``set = { contract = "NW-2026" }``). Cells are
converted to what the record field holds, by the field's type in the record class: numbers
(with ``decimal = ","`` for a decimal comma), true/false, dates and timestamps (ISO 8601, or
``date_format`` / ``timestamp_format`` in ``strptime`` notation; a timestamp without a UTC
offset is in ``timezone``), lists of timestamps (one cell, split on ``list_separator``) and
lists of tables (one cell of JSON). Typed cells (a database's dates and timestamps, a Parquet
file's numbers) are taken as they are, without a round trip through text. An empty cell is a
missing field (null, where the field may be null). A cell that cannot be converted makes its
row an ``input.invalid_record`` naming the column and the field.

The sources share :class:`TableOptions` and :class:`RowMapper`; the core gives the options the
record kinds of the run (:meth:`TableOptions.bind`) before the source reads.
"""

from __future__ import annotations

import decimal
import functools
import typing
from collections.abc import Mapping
from datetime import date, datetime
from types import UnionType
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
import orjson
from attrs import define, field

from ..core.convert import short
from ..core.model import Positive

MISSING = object()


class CellError(ValueError):
    """A cell that cannot be converted; the message says what was expected."""


@define
class TableOptions:
    """The options every table source shares (see the module).

    :param kind: the record kind of every row (required).
    :param columns: record field -> column name; a field not named here is read from the
        column of its own name, when there is one.
    :param set: record field -> a value for every row (``contract = "NW-2026"``).
    :param date_format: ``strptime`` format of date cells (default ISO 8601, ``2026-03-02``).
    :param timestamp_format: ``strptime`` format of timestamp cells (default ISO 8601).
    :param timezone: the IANA time zone of timestamps without a UTC offset.
    :param decimal: the decimal mark of number cells, ``.`` or ``,``.
    :param list_separator: what separates the timestamps of a list in one cell.
    """

    kind: str = ""
    columns: dict[str, str] = field(factory=dict)
    set: dict[str, Any] = field(factory=dict)
    date_format: str | None = None
    timestamp_format: str | None = None
    timezone: str | None = None
    decimal: Literal[".", ","] = "."
    list_separator: str = ";"
    fields: dict = field(factory=dict, init=False, repr=False, eq=False)  # field -> type, from bind()

    def problems(self, path) -> list[tuple[str, str]]:
        """What the types cannot say, before the kinds are known."""
        if not self.kind:
            return [("$.kind", "required: the record kind of every row (work, ticket, expense...)")]
        if self.timezone is not None:
            try:
                ZoneInfo(self.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                return [("$.timezone", f"unknown time zone {self.timezone!r} (an IANA name, e.g. Europe/Berlin)")]
        if not self.list_separator:
            return [("$.list_separator", "must not be empty")]
        return []

    def bind(self, kinds: Mapping) -> list[tuple[str, str]]:
        """Learn the fields of ``kind`` from the run's record kinds (*kinds*: name -> entry with
        ``kind.cls``); the problems of the column map and the constants against them."""
        entry = kinds.get(self.kind)
        if entry is None:
            return [("$.kind", f"expected one of {', '.join(sorted(kinds))}, got {self.kind!r}")]
        cls = entry.kind.cls
        hints = typing.get_type_hints(cls)
        self.fields = {a.name: hints.get(a.name, Any) for a in attrs.fields(cls)
                       if a.init and a.name not in ("file", "line")}
        known = ", ".join(sorted(self.fields))
        for table, name in (("columns", "columns"), ("set", "set")):
            for key in getattr(self, table):
                if key not in self.fields:
                    return [(f"$.{name}.{key}", f"{self.kind} records have no field {key!r} (fields: {known})")]
        return []


class RowMapper:
    """Turns one row (column -> cell) into a record dict for *options* (bound to the kinds). The
    conversion of each field is worked out once, from its type, when the mapper is made."""

    def __init__(self, options: TableOptions):
        self.options = options
        self.zone = ZoneInfo(options.timezone) if options.timezone else None
        self.plan = [(name, options.columns.get(name, name), self.converter(kind), _nullable(kind))
                     for name, kind in options.fields.items() if name not in options.set and name != "kind"]

    def columns(self) -> list[str]:
        """The columns the rows are read from, in field order."""
        return list(dict.fromkeys(column for _, column, _, _ in self.plan))

    def missing_columns(self, columns) -> list[str]:
        """Columns the column map names that the table does not have."""
        present = set(columns)
        return [column for column in self.options.columns.values() if column not in present]

    def record(self, row: Mapping) -> dict:
        """The record dict of *row*; raises :class:`CellError` naming the column and field. An
        empty cell is a missing field (null, where the field may be null)."""
        out: dict = {"kind": self.options.kind, **self.options.set}
        for name, column, convert, nullable in self.plan:
            value = row.get(column, MISSING)
            if value is MISSING or value is None or value == "":
                if nullable and value is not MISSING:
                    out[name] = None
                continue
            try:
                out[name] = convert(value)
            except CellError as exc:
                raise CellError(f"column {column!r} ($.{name}): {exc}") from None
        return out

    def cell(self, value, kind):
        """*value* as a field of type *kind* holds it in a decoded record."""
        return self.converter(kind)(value)

    def converter(self, kind):
        """The function converting a cell to what a field of type *kind* holds."""
        origin = typing.get_origin(kind)
        if origin is typing.Union or origin is UnionType:
            inner = [k for k in typing.get_args(kind) if k is not type(None)]
            return self.converter(inner[0]) if len(inner) == 1 else _same
        if kind is Positive or kind is float:
            return self.number
        if kind is int:
            return self.whole
        if kind is bool:
            return self.boolean
        if kind is str:
            return _string
        if kind is date:
            return self.day
        if kind is datetime:
            return self.moment
        if origin is list:
            (item,) = typing.get_args(kind) or (Any,)
            return functools.partial(self.many, item)
        if attrs.has(kind):
            return _json_object
        return _same

    def many(self, item, value) -> list:
        if item is datetime and isinstance(value, str):
            return [self.moment(part.strip()) for part in value.split(self.options.list_separator) if part.strip()]
        if isinstance(value, str):
            try:
                value = orjson.loads(value)
            except orjson.JSONDecodeError:
                raise CellError(f"expected a JSON list, got {short(value)}") from None
        if isinstance(value, (list, tuple)) and item is datetime:
            return [self.moment(v) for v in value]
        return list(value) if isinstance(value, tuple) else value

    def number(self, value) -> float | int:
        if isinstance(value, bool):
            raise CellError(f"expected a number, got {value!r}")
        if isinstance(value, (int, float)):
            return value
        if isinstance(value, decimal.Decimal):
            return float(value)
        if isinstance(value, str):
            text = value.strip().replace("\u00a0", "").replace(" ", "")
            if self.options.decimal == ",":
                text = text.replace(".", "").replace(",", ".")
            try:
                return int(text)
            except ValueError:
                pass
            try:
                return float(text)
            except ValueError:
                pass
        raise CellError(f"expected a number, got {short(value)}")

    def whole(self, value) -> int:
        number = self.number(value)
        if number != int(number):
            raise CellError(f"expected a whole number, got {value!r}")
        return int(number)

    @staticmethod
    def boolean(value) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str):
            word = value.strip().lower()
            if word in ("true", "yes", "y", "1"):
                return True
            if word in ("false", "no", "n", "0"):
                return False
        raise CellError(f"expected true or false, got {short(value)}")

    def day(self, value):
        """A typed date as it is; text as ISO 8601 or ``date_format``."""
        if isinstance(value, datetime):
            raise CellError(f"expected a date, got a timestamp {value.isoformat()}")
        if isinstance(value, date):
            return value
        if isinstance(value, str) and self.options.date_format:
            try:
                return datetime.strptime(value.strip(), self.options.date_format).date()
            except ValueError:
                raise CellError(f"expected a date as {self.options.date_format}, got {short(value)}") from None
        return value.strip() if isinstance(value, str) else value

    def moment(self, value) -> datetime:
        """A typed timestamp as it is (in ``timezone`` when it has no offset); text parsed."""
        if isinstance(value, str):
            text = value.strip()
            try:
                if self.options.timestamp_format:
                    value = datetime.strptime(text, self.options.timestamp_format)
                else:
                    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                expected = self.options.timestamp_format or "ISO 8601"
                raise CellError(f"expected a timestamp as {expected}, got {short(value)}") from None
        if isinstance(value, datetime):
            if value.tzinfo is None:
                if self.zone is None:
                    raise CellError(f"timestamp {value.isoformat()} has no UTC offset: set the table's timezone")
                value = value.replace(tzinfo=self.zone)
            return value
        raise CellError(f"expected a timestamp, got {short(value)}")


def _nullable(kind) -> bool:
    origin = typing.get_origin(kind)
    return (origin is typing.Union or origin is UnionType) and type(None) in typing.get_args(kind)


def _same(value):
    return value


def _string(value) -> str:
    return value if isinstance(value, str) else _text(value)


def _json_object(value):
    if isinstance(value, str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            raise CellError(f"expected a JSON object, got {short(value)}") from None
    return value


def _text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


__all__ = ["CellError", "RowMapper", "TableOptions"]
