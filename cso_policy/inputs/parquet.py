"""Records from Parquet files, read in record batches with pyarrow (an optional extra:
``pip install 'cso-policy[parquet]'``).

A file holds one record kind (``kind``); each row is a record, its fields read through the
column map every table source shares (:mod:`cso_policy.inputs.tabular`). Parquet cells are
typed already: numbers, decimals, dates, timestamps (with a time zone, or without one and then
in ``timezone``), booleans and lists arrive as Python values and are converted to what the
record field holds. Only the mapped columns are read, ``batch`` rows at a time. The "line" of a
record is its 1-based row number in the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from attrs import define

from ..errors import ConfigError
from ..markers import hookimpl
from .sources import BadLine, RawRecord, RecordSource
from .tabular import CellError, RowMapper, TableOptions

INSTALL = "pip install 'cso-policy[parquet]'"


@define
class ParquetOptions(TableOptions):
    """The table options (see :class:`cso_policy.inputs.tabular.TableOptions`) and:

    :param batch: rows per record batch read from the file.
    """

    batch: int = 10000

    def problems(self, path) -> list[tuple[str, str]]:
        found = super().problems(path)
        if found:
            return found
        if isinstance(self.batch, bool) or self.batch < 1:
            return [("$.batch", f"expected a number of rows of at least 1, got {self.batch!r}")]
        return []


def _pyarrow_parquet(path):
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ConfigError(f"{path}: the parquet source needs pyarrow: {INSTALL}") from None
    return pq


def _names(columns: list[str]) -> str:
    if not columns:
        return "no columns"
    shown = ", ".join(repr(c) for c in columns[:12])
    return shown + (f" and {len(columns) - 12} more" if len(columns) > 12 else "")


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 200 else text[:197] + "..."


def read_parquet(path: Path | None, options: ParquetOptions | None = None) -> Iterator[RawRecord]:
    """Every row of the file as a record dict (a row with a cell that cannot be converted is a
    BadLine naming the column and the field); the line is the row number, from 1."""
    if path is None:
        raise ConfigError("the parquet source reads files: give the [[records]] entry a path")
    if options is None or not options.fields:
        raise ConfigError(f"{path}: the parquet source needs its options bound to the record kinds")
    pq = _pyarrow_parquet(path)
    import pyarrow as pa

    name = str(path)
    try:
        table = pq.ParquetFile(path)
    except OSError as exc:  # also pyarrow's ArrowIOError
        reason = exc.strerror or _one_line(exc)
        raise ConfigError(f"{path}: cannot read as Parquet ({reason})") from None
    except (pa.ArrowException, ValueError) as exc:
        raise ConfigError(f"{path}: not a Parquet file ({_one_line(exc)})") from None
    with table:
        present = table.schema_arrow.names
        mapper = RowMapper(options)
        missing = mapper.missing_columns(present)
        if missing:
            column = missing[0]
            field = next(f for f, c in options.columns.items() if c == column)
            raise ConfigError(f"{path}: no column {column!r} (for $.columns.{field}); the file has {_names(present)}")
        have = set(present)
        wanted = [column for column in mapper.columns() if column in have]
        number = 0
        batches = _batches(table, wanted, options.batch)
        while True:
            try:
                batch = next(batches, None)
                rows = batch.to_pylist() if batch is not None else None
            except (OSError, ValueError, pa.ArrowException) as exc:
                raise ConfigError(f"{path}: cannot read from row {number + 1} ({_one_line(exc)})") from None
            if rows is None:
                return
            for row in rows:
                number += 1
                try:
                    yield name, number, mapper.record(row)
                except CellError as exc:
                    yield name, number, BadLine(str(exc))


def _batches(table, columns: list[str], size: int):
    """The record batches of *columns*, nanosecond timestamps cut to microseconds (what a Python
    datetime holds)."""
    import pyarrow as pa

    schema = pa.schema([table.schema_arrow.field(column) for column in columns])
    target = pa.schema([field.with_type(_microseconds(field.type)) for field in schema])
    cut = not target.equals(schema)
    for batch in table.iter_batches(batch_size=size, columns=columns):
        yield batch.cast(target, safe=False) if cut else batch


def _microseconds(kind):
    """*kind* with every nanosecond timestamp in it (in lists and structs too) in microseconds."""
    import pyarrow as pa
    import pyarrow.types as t

    if t.is_timestamp(kind) and kind.unit == "ns":
        return pa.timestamp("us", tz=kind.tz)
    if t.is_list(kind):
        return pa.list_(kind.value_field.with_type(_microseconds(kind.value_type)))
    if t.is_large_list(kind):
        return pa.large_list(kind.value_field.with_type(_microseconds(kind.value_type)))
    if t.is_struct(kind):
        return pa.struct([kind.field(i).with_type(_microseconds(kind.field(i).type)) for i in range(kind.num_fields)])
    return kind

PARQUET = RecordSource(
    name="parquet",
    read=read_parquet,
    suffixes=(".parquet",),
    options=ParquetOptions,
    description=f"Parquet: one record a row, through the column map (needs pyarrow: {INSTALL})",
)


@hookimpl
def cso_policy_record_sources():
    return [PARQUET]
