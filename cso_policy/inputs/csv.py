"""The CSV record source (``source = "csv"``, and files ending in ``.csv``): one record kind per
file, read through the shared table options (:mod:`cso_policy.inputs.tabular`: the column map,
constants, typed cells).

What it adds to the table options: the delimiter (sniffed among ``, ; tab |`` when not given),
the quote character, the encoding (UTF-8 with or without a byte-order mark by default), and the
header row: by default the first row that names every column the entry needs (rows above it, a
report title or export notes, are skipped), or ``header = false`` for a file without one, whose
columns the map names by position (``"1"``, ``"2"``...).

Each row is reported at the physical line it starts on, so a quoted cell holding a newline does
not shift the lines of the rows after it. A row that cannot be made a record (a cell that does
not convert, a row with too many or too few cells, bytes that are not in the encoding) is an
``input.invalid_record`` at that line; what makes the whole file unusable (a column the map
names that the header lacks, a file that cannot be opened) stops the run with one line.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import attrs
from attrs import define, field

from ..errors import ConfigError
from ..markers import hookimpl
from .sources import BadLine, RawRecord, RecordSource
from .tabular import CellError, RowMapper, TableOptions

DELIMITERS = ",;\t|"
"""What a delimiter is sniffed among when the entry gives none."""

HEADER_SEARCH = 20
"""How many non-empty rows the header row is looked for in."""

SNIFF_BYTES = 64 * 1024

_NEWLINE = re.compile(r"\r\n|\r|\n")


@define
class CsvOptions(TableOptions):
    """The table options (see :class:`TableOptions`) plus:

    :param delimiter: the character between cells; None: sniffed among ``, ; tab |`` from the
        start of the file (``,`` when it cannot tell).
    :param quotechar: the character around cells that hold a delimiter, a quote or a newline.
    :param header: whether the file has a header row naming the columns. True: the header row
        is the first row (among the first 20 non-empty ones) that has every column the entry
        needs; False: no header row, the columns are named by position ``"1"``, ``"2"``...
    :param encoding: the text encoding; ``utf-8-sig`` reads UTF-8 with or without a BOM.
    """

    delimiter: str | None = None
    quotechar: str = '"'
    header: bool = True
    encoding: str = "utf-8-sig"
    required: tuple = field(factory=tuple, init=False, repr=False, eq=False)  # fields without a default

    def problems(self, path) -> list[tuple[str, str]]:
        if path is None:
            return [("$.path", "required: the csv source reads a file")]
        found = super().problems(path)
        if found:
            return found
        if self.delimiter is not None and (len(self.delimiter) != 1 or self.delimiter in "\r\n"):
            return [("$.delimiter", f"expected one character (e.g. \",\", \";\", \"\\t\"), got {self.delimiter!r}")]
        if len(self.quotechar) != 1 or self.quotechar in "\r\n":
            return [("$.quotechar", f"expected one character, got {self.quotechar!r}")]
        if self.delimiter is not None and self.delimiter == self.quotechar:
            return [("$.quotechar", "must differ from the delimiter")]
        try:
            info = codecs.lookup(self.encoding)
        except LookupError:
            return [("$.encoding", f"unknown encoding {self.encoding!r} (e.g. utf-8, utf-8-sig, cp1252, latin-1)")]
        # lines are split on the byte b"\n": the encoding must be a text encoding that writes ASCII
        # as ASCII (not UTF-16/32, not a bytes-to-bytes codec such as hex or rot13)
        if not getattr(info, "_is_text_encoding", True) or not _ascii_compatible(info):
            return [("$.encoding", f"{self.encoding!r} is not an encoding a CSV file can be read in (use an "
                                   "ASCII-compatible one: utf-8, utf-8-sig, cp1252, latin-1; convert UTF-16 to UTF-8)")]
        return []

    def bind(self, kinds) -> list[tuple[str, str]]:
        found = super().bind(kinds)
        if not found:
            cls = kinds[self.kind].kind.cls
            self.required = tuple(a.name for a in attrs.fields(cls)
                                  if a.init and a.default is attrs.NOTHING and a.name in self.fields)
        return found

    def needed(self) -> list[tuple[str, str]]:
        """(column, why) for every column the header row must have: the mapped ones, and the
        own-name column of each required field neither mapped nor set."""
        out = [(column, f"columns.{name}") for name, column in self.columns.items() if name not in self.set]
        out += [(name, f"the required field {name}") for name in self.required
                if name not in self.columns and name not in self.set]
        return out


def _ascii_compatible(info: codecs.CodecInfo) -> bool:
    try:
        return info.encode(",;\t\"\r\nAz09")[0].endswith(b",;\t\"\r\nAz09")  # a BOM before it is fine
    except Exception:  # a codec that cannot encode text at all
        return False


class _Lines:
    """The physical lines of a file decoded one by one (``\\r\\n``, ``\\r`` or ``\\n`` ends a
    line, as with ``newline=""``), so that bytes not in the encoding spoil only their line:
    ``errors`` maps line number -> what was wrong, and the line is decoded with replacement
    characters."""

    def __init__(self, fh, encoding: str):
        self.fh = fh
        self.encoding = encoding
        self.factory = codecs.getincrementaldecoder(encoding)
        self.decoder = self.factory("strict")
        self.errors: dict[int, str] = {}
        self.number = 0  # lines handed out
        self.offset = 0  # bytes read

    def _decode(self, raw: bytes, final: bool = False) -> str:
        try:
            return self.decoder.decode(raw, final)
        except UnicodeDecodeError as exc:
            bad = exc.object[exc.start:exc.start + 1]
            at = max(self.offset - len(exc.object) + exc.start, 0)
            self.errors.setdefault(self.number + 1, (
                f"not {self.encoding}: byte 0x{bad.hex()} at byte offset {at} "
                f"(set the entry's encoding, e.g. cp1252)"))
            text = self.factory("replace").decode(exc.object, True)
            self.decoder = self.factory("strict")
            return text

    def __iter__(self) -> Iterator[str]:
        pending = ""
        for raw in self.fh:
            self.offset += len(raw)
            text = self._decode(raw)
            if not pending and text[-1:] == "\n" and text.count("\n") == 1 and "\r" not in text[:-2]:
                self.number += 1  # the common case: one whole line ending in \n or \r\n
                yield text
                continue
            pending += text
            pieces = _NEWLINE.split(pending)
            ends = _NEWLINE.findall(pending)
            pending = pieces.pop()
            if ends and ends[-1] == "\r" and not pending:
                # a \r at the end of what is decoded may be the first half of \r\n: wait
                pending = pieces.pop() + ends.pop()
            for piece, end in zip(pieces, ends):
                self.number += 1
                yield piece + end
        pending += self._decode(b"", final=True)
        pieces, ends = _NEWLINE.split(pending), _NEWLINE.findall(pending)
        for piece, end in zip(pieces, ends + [""]):
            if piece or end:
                self.number += 1
                yield piece + end


def _sniff(path: Path, options: CsvOptions) -> str:
    """The delimiter of *path*: the option; else the one among :data:`DELIMITERS` that splits a
    row of the first ones into every column the entry needs (the header row); else the one
    :class:`csv.Sniffer` finds in the start of the file; else ``,``."""
    if options.delimiter is not None:
        return options.delimiter
    try:
        with path.open("rb") as fh:
            head = fh.read(SNIFF_BYTES)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    text = codecs.getincrementaldecoder(options.encoding)("replace").decode(head).lstrip("\ufeff")
    if len(head) == SNIFF_BYTES:  # the last line may be cut
        text = text[:max(text.rfind("\n"), 0)]
    needed = [column for column, _ in options.needed()]
    if options.header and needed:
        for delimiter in DELIMITERS:
            try:
                rows = list(zip(range(HEADER_SEARCH * 2), csv.reader(io.StringIO(text, newline=""),
                                                                     delimiter=delimiter,
                                                                     quotechar=options.quotechar)))
            except csv.Error:
                continue
            for _, row in rows:
                cells = {cell.strip() for cell in row}
                if all(column in cells for column in needed):
                    return delimiter
    lines = [line for line in _NEWLINE.split(text) if line.strip()]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines[:50]), delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


def _blank(row: list[str]) -> bool:
    return not row or all(not cell.strip() for cell in row)


def _listing(names) -> str:
    return ", ".join(repr(n) for n in names) or "none"


def read_csv(path: Path | None, options: CsvOptions) -> Iterator[RawRecord]:
    """One record a row (see the module)."""
    if path is None:
        raise ConfigError("the csv source reads files: give the [[records]] entry a path")
    name = str(path)
    delimiter = _sniff(path, options)
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    with fh:
        lines = _Lines(fh, options.encoding)
        reader = csv.reader(iter(lines), delimiter=delimiter, quotechar=options.quotechar, strict=True)
        mapper = RowMapper(options)
        header: list[str] | None = None
        last = 0  # the line the previous row ended on
        searched = 0
        first: tuple[int, int, list[str]] | None = None  # (needed columns it has, line, cells)
        needed = options.needed()
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:  # strict: a quote not closed, text after a closing quote
                start, end = last + 1, reader.line_num
                last = end
                if header is None:
                    raise ConfigError(f"{path}:{start}: not CSV ({exc})") from None
                spans = f"; the row runs from line {start} to line {end}" if end > start else ""
                yield name, start, BadLine(f"not CSV ({exc}): a quote not closed?{spans}")
                continue
            except OSError as exc:
                raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
            start, end = last + 1, reader.line_num
            last = end
            if _blank(row):
                continue
            spoilt = next((lines.errors[n] for n in range(start, end + 1) if n in lines.errors), None)
            if header is None:
                if spoilt is not None:
                    raise ConfigError(f"{path}:{start}: {spoilt}")
                if not options.header:
                    header = [str(i) for i in range(1, len(row) + 1)]
                    missing = [c for c, _ in needed if c not in header]
                    if missing:
                        raise ConfigError(f"{path}: no column {missing[0]!r}: the file has no header row and its "
                                          f"first row has {len(row)} cells (columns: {_listing(header)})")
                else:
                    cells = [cell.strip() for cell in row]
                    cells[0] = cells[0].lstrip("\ufeff")
                    score = sum(column in cells for column, _ in needed)
                    if first is None or score > first[0]:
                        first = (score, start, cells)  # the likeliest header row so far
                    searched += 1
                    if all(column in cells for column, _ in needed):
                        header = cells
                        twice = sorted({c for c, _ in needed if cells.count(c) > 1})
                        if twice:
                            raise ConfigError(f"{path}:{start}: column {twice[0]!r} appears more than once "
                                              f"in the header row")
                        continue
                    if searched >= HEADER_SEARCH:
                        break
                    continue
            if spoilt is not None:
                yield name, start, BadLine(spoilt)
                continue
            if len(row) != len(header):
                spans = f" (the row runs from line {start} to line {end}: a quote not closed?)" if end > start else ""
                what = "the header has" if options.header else "the first row has"
                yield name, start, BadLine(f"row has {len(row)} cells, {what} {len(header)}{spans}")
                continue
            try:
                record = mapper.record(dict(zip(header, row)))
            except CellError as exc:
                yield name, start, BadLine(str(exc))
                continue
            yield name, start, record
        if header is None and first is not None:
            _, line, cells = first
            column, why = next((c, why) for c, why in needed if c not in cells)
            where = f"{path}" if searched == 1 else f"{path}:{line}"
            hint = (f"; no row of the first {searched} names every column the entry needs"
                    if searched > 1 else "")
            if len(cells) == 1:
                hint += f"; the row is one column: set the entry's delimiter (read as {delimiter!r})"
            raise ConfigError(f"{where}: no column {column!r} for {why} (columns: {_listing(cells)}{hint})")


CSV = RecordSource(
    name="csv",
    read=read_csv,
    suffixes=(".csv",),
    description="CSV files: one record kind a file, a row a record, through a column map",
    options=CsvOptions,
)


@hookimpl
def cso_policy_record_sources():
    return [CSV]


__all__ = ["CSV", "CsvOptions", "read_csv"]
