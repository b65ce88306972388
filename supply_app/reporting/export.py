"""The margin report as a file (CSV or XLSX), streamed from one snapshot of the database.

An export reads its rows and its TOTAL row on a connection of its own, in one
REPEATABLE READ transaction on PostgreSQL (one SQLite read transaction otherwise), so the
totals always add up to the rows above them. On PostgreSQL the CSV is PostgreSQL's own
`COPY (SELECT …) TO STDOUT` of the text the columns module builds; elsewhere the same
statement runs through a cursor and Python's csv writer. XLSX is written as it streams.

A complete file always ends with its TOTAL row: 'TOTAL' in the first column, every
figure's total after it (`cases` there equals the sum of the cases column). A download cut
off anywhere lacks that row or disagrees with it, which `check_csv` (and the finance
page's download button) detects; the X-Export-Rows header says how many rows to expect.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import Response
from sqlalchemy import Select, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from supply_app.auth.models import User
from supply_app.cases.fees import current_versions
from supply_app.clock import utcnow
from supply_app.errors import InvalidInput
from supply_app.reporting import xlsx
from supply_app.reporting.columns import (
    FIGURES,
    LABELS,
    Column,
    as_sheet_cells,
    as_text,
    columns_for,
    labelled_total,
)
from supply_app.reporting.queries import case_rows, grouped, order_of, row_count
from supply_app.reporting.service import margin_filter

CSV = "text/csv"
BOM = "\ufeff"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Excel's rows per sheet, less the header and the TOTAL row.
XLSX_DATA_ROWS = xlsx.MAX_ROWS - 2
CHUNK_BYTES = 256 * 1024
FETCH_ROWS = 2000
# For the export's own transaction. JIT compilation costs seconds and saves nothing on a
# statement that only streams rows. Parallel workers would each build the whole ledger
# aggregate again (it is not parallel-aware), tripling the work, and one export should
# not take every core. Hashing the ledger and sorting a million rows need more than the
# default 4MB to stay mostly off disk.
POSTGRES_SETTINGS = (
    "SET LOCAL jit = off",
    "SET LOCAL max_parallel_workers_per_gather = 0",
    "SET LOCAL work_mem = '64MB'",
)


class TooManyRowsForExcel(InvalidInput):
    """An XLSX export asked for more rows than one Excel sheet holds (422)."""

    slug = "too-many-rows-for-xlsx"
    title = "Too many rows for one Excel sheet"


@dataclass
class Export:
    """One export, counted and ready to stream; it owns its connection until closed."""

    format: str
    group_by: list[str]
    columns: tuple[Column, ...]
    keys: int  # how many of the columns are the grouping's keys
    rows: int  # data rows (the header and the TOTAL row come on top)
    connection: Connection
    rows_source: Any
    total_source: Any
    closed: bool = field(default=False)

    @property
    def filename(self) -> str:
        """case-margin-<grouping>-<date>.<format>."""
        day = utcnow().date().isoformat()
        return f"case-margin-{'-'.join(self.group_by)}-{day}.{self.format}"

    def chunks(self) -> Iterator[bytes]:
        """The file's bytes, as they are made; the connection is closed at the end."""
        try:
            yield from (self._csv() if self.format == "csv" else self._xlsx())
        finally:
            self.close()

    def close(self) -> None:
        """Give the connection back (ends the read transaction); safe to call twice."""
        if not self.closed:
            self.closed = True
            self.connection.close()

    def _statements(self, cells: Callable[[Any, Any], list[Any]]) -> tuple[Select, Select]:
        """The rows' cells in report order, and the TOTAL row's."""
        rows = select(*cells(self.columns, self.rows_source)).order_by(
            *order_of(self.group_by, self.rows_source)
        )
        figures = cells(self.columns[self.keys :], self.total_source)
        return rows, select(*labelled_total(self.columns, self.keys, figures))

    def _csv(self) -> Iterator[bytes]:
        # The byte-order mark tells Excel the file is UTF-8 (else "iovera°" shows as "ioveraÂ°").
        yield (BOM + ",".join(column.name for column in self.columns) + "\n").encode()
        for statement in self._statements(as_text):
            if self.connection.dialect.name == "postgresql":
                yield from _copy_csv(self.connection, statement)
            else:
                yield from _cursor_csv(self.connection, statement)

    def _xlsx(self) -> Iterator[bytes]:
        labels = [LABELS[column.name] for column in self.columns]
        sheet = xlsx.StreamedSheet("Case margin", [column.kind for column in self.columns], labels)
        yield sheet.header(labels)
        rows, total = self._statements(as_sheet_cells)
        for batch in _text_rows(self.connection, rows):
            if data := sheet.rows(batch):
                yield data
        for (total_row,) in _text_rows(self.connection, total):  # one batch of one row
            yield sheet.labelled_row("TOTAL", total_row)
        yield sheet.close()


def open_export(session: Session, engine: Engine, user: User, args: dict[str, Any]) -> Export:
    """Check and count an export on a connection of its own, ready to stream.

    :raises NotFound: a facility_id the user does not belong to.
    :raises TooManyRowsForExcel: an XLSX export over one sheet's rows.
    """
    group_by = args["group_by"]
    filters = margin_filter(session, user, args)
    versions = current_versions(session)
    connection = _snapshot(engine)
    try:
        rows = connection.scalar(row_count(filters, group_by)) or 0
        if args["format"] == "xlsx" and rows > XLSX_DATA_ROWS:
            raise TooManyRowsForExcel(
                f"This report has {rows:,} rows and an Excel sheet holds {XLSX_DATA_ROWS:,} "
                "below its header and above the TOTAL row. Download it as CSV, or narrow the "
                "filters (a shorter date range, one facility).",
                field="format",
                rows=rows,
                limit=XLSX_DATA_ROWS,
            )
    except BaseException:
        connection.close()
        raise
    if group_by == ["case"]:
        source = case_rows(filters, versions)
    else:
        source = grouped(filters, versions, group_by)
    return Export(
        format=args["format"],
        group_by=group_by,
        columns=columns_for(group_by),
        keys=len(columns_for(group_by)) - len(FIGURES),
        rows=rows,
        connection=connection,
        rows_source=source.order_by(None).subquery("r"),
        total_source=grouped(filters, versions, []).subquery("t"),
    )


def export_response(export: Export) -> Response:
    """A streamed download of an export, saying how many rows it holds."""
    response = Response(export.chunks(), mimetype=CSV if export.format == "csv" else XLSX)
    response.headers["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response.headers["X-Export-Rows"] = str(export.rows)
    response.headers["Cache-Control"] = "no-store"
    # A client that goes away before the body starts still gets the connection closed.
    response.call_on_close(export.close)
    return response


def _snapshot(engine: Engine) -> Connection:
    """A connection in a read-only transaction that sees one snapshot for all it reads."""
    connection = engine.connect()
    try:
        if connection.dialect.name == "postgresql":
            connection = connection.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
            connection.begin()
            for setting in POSTGRES_SETTINGS:
                connection.exec_driver_sql(setting)
        else:
            connection.begin()
    except BaseException:
        connection.close()
        raise
    return connection


def _copy(connection: Connection, statement: Select) -> Iterator[memoryview]:
    """PostgreSQL's COPY of a statement as CSV: one message per row, as the server sends."""
    compiled = statement.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    driver = connection.connection.driver_connection
    with (
        driver.cursor() as cursor,  # type: ignore[union-attr]
        cursor.copy(f"COPY ({compiled}) TO STDOUT WITH (FORMAT csv)", compiled.params) as copy,
    ):
        yield from copy


def _copy_csv(connection: Connection, statement: Select) -> Iterator[bytes]:
    """A statement's rows as CSV from COPY, passed on in chunks of about CHUNK_BYTES."""
    buffer = bytearray()
    for data in _copy(connection, statement):
        buffer += data
        if len(buffer) >= CHUNK_BYTES:
            yield bytes(buffer)
            buffer.clear()
    if buffer:
        yield bytes(buffer)


def _cursor_csv(connection: Connection, statement: Select) -> Iterator[bytes]:
    """A statement's rows as CSV through a cursor, written as COPY writes them."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    for batch in _cursor_rows(connection, statement):
        writer.writerows(batch)
        if text.tell() >= CHUNK_BYTES:
            yield text.getvalue().encode()
            text.seek(0)
            text.truncate()
    if text.tell():
        yield text.getvalue().encode()


def _cursor_rows(connection: Connection, statement: Select) -> Iterator[Sequence[Any]]:
    """A statement's rows in batches, streamed from the cursor."""
    result = connection.execution_options(yield_per=FETCH_ROWS).execute(statement)
    yield from result.partitions()


def _text_rows(connection: Connection, statement: Select) -> Iterator[Sequence[Any]]:
    """A text statement's rows in batches: parsed from COPY on PostgreSQL (much cheaper
    than building result rows), read from a cursor elsewhere."""
    if connection.dialect.name != "postgresql":
        yield from _cursor_rows(connection, statement)
        return
    lines = (bytes(data).decode() for data in _copy(connection, statement))
    reader = csv.reader(lines)
    while batch := list(itertools.islice(reader, FETCH_ROWS)):
        yield batch


def check_csv(text: str) -> str | None:
    """Why a downloaded margin CSV is incomplete, or None when it is whole.

    Whole means: it ends with a line break after the TOTAL row, that row has every column,
    and its cases and money totals equal the sums of the rows above it, so a file cut
    anywhere (between two rows, or inside the TOTAL row itself) is caught.
    """
    rows = list(csv.reader(io.StringIO(text.removeprefix(BOM))))
    if len(rows) < 2 or not text.endswith("\n"):
        return f"the file stops part-way through row {len(rows)}, before its TOTAL row ends"
    header, *body, total = rows
    if total[:1] != ["TOTAL"] or len(total) != len(header):
        return f"no TOTAL row: the file ends after {len(body) + 1} row(s)"
    for name in [column.name for column in FIGURES if column.derived is None]:
        index = header.index(name)
        try:
            summed = sum(_cents(row[index]) for row in body)
        except (ValueError, IndexError):
            return f"a row is cut short: its {name} is missing or not a number"
        if summed != _cents(total[index]):
            return f"{name}: the rows add up to {summed}, the TOTAL row says {total[index]}"
    return None


def _cents(text: str) -> int:
    """'903.63' -> 90363, '12' -> 1200, '' -> 0 (an empty cell adds nothing)."""
    if text == "":
        return 0
    whole, _, part = text.partition(".")
    sign = -1 if whole.startswith("-") else 1
    return sign * (abs(int(whole)) * 100 + int((part + "00")[:2]))
