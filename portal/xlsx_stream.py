"""A streaming .xlsx writer: sheet XML goes straight into the zip, row by row (ADR 0012).

Only what an export needs: typed columns (time, duration, number, integer, text), a
bold frozen header, column widths, several sheets, inline strings. Each sheet is one
deflated zip member written as rows arrive, so memory stays flat and nothing is
spooled twice. openpyxl stays the project's reader of workbooks (tests, imports).
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO
from xml.sax.saxutils import escape, quoteattr

__all__ = ["Column", "XlsxStream", "excel_serial"]

#: Excel's day 0 on Windows (the 1900 leap-year bug folded in for dates after 1900-03-01)
_EPOCH = dt.datetime(1899, 12, 30)
_DAY = dt.timedelta(days=1)


def excel_serial(value: dt.datetime) -> float:
    """A naive datetime as Excel's serial day number (days since 1899-12-30)."""
    return (value - _EPOCH) / _DAY


@dataclass(frozen=True)
class Column:
    """One column: its header label, width, kind and (for time/number/duration) format.

    Kinds: ``time`` (a naive datetime), ``duration`` (seconds, written as whole seconds
    in Excel's unit, a fraction of a day), ``number``
    (a float with ``number_format``), ``integer``, ``text`` (anything else is written
    as its text)."""

    label: str
    kind: str = "text"
    width: float = 10.0
    number_format: str = "General"


def _letters(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


#: XML's three special characters escaped, characters XML 1.0 cannot carry dropped
_TEXT_TABLE = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
    | {chr(c): None for c in range(32) if chr(c) not in "\t\n\r"}
)


def _t(value: Any) -> str:
    """The ``<t>`` element of a text cell."""
    text = (value if isinstance(value, str) else str(value)).translate(_TEXT_TABLE)
    if text.strip() != text:
        return f'<t xml:space="preserve">{text}</t>'
    return f"<t>{text}</t>"


class _TextCells(dict[str, str]):
    """``text -> _t(text)`` for one column, remembered for the first ``LIMIT`` texts seen:
    exports repeat the same sites, stations, node ids a million times. Later texts are
    escaped each time, not kept (memory stays flat whatever the row count)."""

    LIMIT = 512

    def __missing__(self, text: str) -> str:
        element = _t(text)
        if len(self) < self.LIMIT:
            self[text] = element
        return element


def _cell(kind: str, ref: str, value: Any) -> str:
    """One cell's XML, for any value (the slow, careful path)."""
    if kind == "time" and isinstance(value, dt.datetime):
        return f'<c r="{ref}" s="2"><v>{excel_serial(value)!r}</v></c>'
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "number" and number:
        return f'<c r="{ref}" s="3"><v>{float(value)!r}</v></c>'
    if kind == "duration" and number:
        return f'<c r="{ref}" s="4"><v>{int(value) / 86400!r}</v></c>'
    if kind == "integer" and number:
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is>{_t(value)}</is></c>'


def _row_function(kinds: Sequence[str]) -> Callable[[str, Sequence[Any]], str]:
    """A function ``(row number, values) -> <row> XML`` written for these column kinds:
    one expression per row instead of a call per cell. None and empty text leave the
    cell out. It assumes each value has its
    column's type (datetime, float, int; text: anything) or is None; the caller falls
    back to ``_cell`` when one does not."""
    names = [f"v{i}" for i in range(len(kinds))]
    parts = []
    for i, kind in enumerate(kinds):
        ref = _letters(i) + "' + n + '"
        v = names[i]
        if kind == "time":
            cell = f"'<c r=\"{ref}\" s=\"2\"><v>' + repr(({v} - E) / D) + '</v></c>'"
        elif kind == "number":
            cell = f"'<c r=\"{ref}\" s=\"3\"><v>' + repr(float({v})) + '</v></c>'"
        elif kind == "duration":
            cell = f"'<c r=\"{ref}\" s=\"4\"><v>' + repr(int({v}) / 86400) + '</v></c>'"
        elif kind == "integer":
            cell = f"'<c r=\"{ref}\"><v>' + str(int({v})) + '</v></c>'"
        else:
            text = f"(TC{i}[{v}] if {v}.__class__ is str else T({v}))"
            cell = f"'<c r=\"{ref}\" t=\"inlineStr\"><is>' + {text} + '</is></c>'"
        empty = f"{v} is None or {v} == ''" if kind == "text" else f"{v} is None"
        parts.append(f"('' if {empty} else {cell})")
    unpack = (", ".join(names) + ",") if names else "_"
    body = " + ".join(["'<row r=\"' + n + '\">'", *parts, "'</row>'"])
    source = f"def row(n, values):\n    {unpack} = values\n    return {body}\n"
    scope: dict[str, Any] = {"E": _EPOCH, "D": _DAY, "T": _t}
    scope |= {f"TC{i}": _TextCells() for i, kind in enumerate(kinds) if kind == "text"}
    exec(compile(source, "<xlsx row>", "exec"), scope)
    function: Callable[[str, Sequence[Any]], str] = scope["row"]
    return function


class XlsxStream:
    """Write a workbook sheet by sheet: ``add_sheet(title)``, ``write(rows)``, ``close()``.

    ``target`` is a path or a writable binary file. ``compresslevel`` is zlib's
    (1: fast; the XML still shrinks about tenfold)."""

    def __init__(
        self,
        target: str | Path | BinaryIO,
        columns: Sequence[Column],
        *,
        compresslevel: int = 1,
    ) -> None:
        self.columns = list(columns)
        self._zip = zipfile.ZipFile(
            target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=compresslevel
        )
        self._titles: list[str] = []
        self._sheet: IO[bytes] | None = None
        self._row = 0
        self._letters = [_letters(i) for i in range(len(self.columns))]
        self._kinds = [c.kind for c in self.columns]
        self._row_xml = _row_function(self._kinds)

    def add_sheet(self, title: str) -> None:
        """Finish the current sheet and start ``title`` with the bold, frozen header."""
        self._end_sheet()
        self._titles.append(title)
        number = len(self._titles)
        self._sheet = self._zip.open(f"xl/worksheets/sheet{number}.xml", "w", force_zip64=True)
        cols = "".join(
            f'<col min="{i + 1}" max="{i + 1}" width="{c.width}" customWidth="1"/>'
            for i, c in enumerate(self.columns)
        )
        header = "".join(
            f'<c r="{self._letters[i]}1" s="1" t="inlineStr"><is><t>{escape(c.label)}</t></is></c>'
            for i, c in enumerate(self.columns)
        )
        self._sheet.write(
            (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                f'<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}">'
                '<sheetViews><sheetView workbookViewId="0">'
                '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
                '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
                "</sheetView></sheetViews>"
                '<sheetFormatPr defaultRowHeight="15"/>'
                f"<cols>{cols}</cols><sheetData>"
                f'<row r="1">{header}</row>'
            ).encode()
        )
        self._row = 1

    def write(self, rows: Iterable[Sequence[Any]]) -> int:
        """Append rows (one value per column; None leaves the cell empty) to the sheet."""
        if self._sheet is None:
            raise RuntimeError("add_sheet() first")
        row_xml, width = self._row_xml, len(self.columns)
        number = self._row
        parts: list[str] = []
        for row in rows:
            number += 1
            n = str(number)
            try:
                if len(row) != width:
                    raise ValueError
                parts.append(row_xml(n, row))
            except (TypeError, ValueError, AttributeError, OverflowError):
                parts.append(self._careful_row(n, row))
        self._sheet.write("".join(parts).encode())
        written = number - self._row
        self._row = number
        return written

    def _careful_row(self, n: str, row: Sequence[Any]) -> str:
        cells = "".join(
            _cell(kind, letter + n, value)
            for kind, letter, value in zip(self._kinds, self._letters, row, strict=False)
            if value is not None and value != ""
        )
        return f'<row r="{n}">{cells}</row>'

    def _end_sheet(self) -> None:
        if self._sheet is not None:
            self._sheet.write(b"</sheetData></worksheet>")
            self._sheet.close()
            self._sheet = None

    def close(self) -> None:
        """Finish the last sheet and write the workbook's parts."""
        if not self._titles:
            self.add_sheet("Sheet1")
        self._end_sheet()
        count = len(self._titles)
        write = self._zip.writestr
        sheets_ct = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_CT}'
            'spreadsheetml.worksheet+xml"/>'
            for i in range(1, count + 1)
        )
        write(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package'
            '.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            f'ContentType="{_CT}spreadsheetml.sheet.main+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{_CT}spreadsheetml.styles+xml"/>'
            f"{sheets_ct}"
            '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats'
            '-package.core-properties+xml"/>'
            '<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats'
            '-officedocument.extended-properties+xml"/></Types>',
        )
        write(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{_DOC_REL}/officeDocument" Target="xl/workbook.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/'
            'relationships/metadata/core-properties" Target="docProps/core.xml"/>'
            f'<Relationship Id="rId3" Type="{_DOC_REL}/extended-properties" '
            'Target="docProps/app.xml"/></Relationships>',
        )
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        write(
            "docProps/core.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
            'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            "<dc:creator>Charge Portal</dc:creator>"
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{now}</dcterms:created>'
            "</cp:coreProperties>",
        )
        write(
            "docProps/app.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
            'extended-properties"><Application>Charge Portal</Application></Properties>',
        )
        sheets = "".join(
            f'<sheet name={quoteattr(title)} sheetId="{i}" r:id="rId{i}"/>'
            for i, title in enumerate(self._titles, start=1)
        )
        write(
            "xl/workbook.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}">'
            '<bookViews><workbookView activeTab="0"/></bookViews>'
            f"<sheets>{sheets}</sheets></workbook>",
        )
        rels = "".join(
            f'<Relationship Id="rId{i}" Type="{_DOC_REL}/worksheet" '
            f'Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, count + 1)
        )
        write(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f"{rels}"
            f'<Relationship Id="rId{count + 1}" Type="{_DOC_REL}/styles" Target="styles.xml"/>'
            "</Relationships>",
        )
        write("xl/styles.xml", self._styles())
        self._zip.close()

    def _styles(self) -> str:
        formats = {
            kind: next(
                (c.number_format for c in self.columns if c.kind == kind),
                "General",
            )
            for kind in ("time", "number", "duration")
        }
        numfmts = "".join(
            f'<numFmt numFmtId="{164 + i}" formatCode={quoteattr(formats[kind])}/>'
            for i, kind in enumerate(("time", "number", "duration"))
        )
        xfs = '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        xfs += '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
        xfs += "".join(
            f'<xf numFmtId="{164 + i}" fontId="0" fillId="0" borderId="0" xfId="0" '
            'applyNumberFormat="1"/>'
            for i in range(3)
        )
        return (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<styleSheet xmlns="{_MAIN}">'
            f'<numFmts count="3">{numfmts}</numFmts>'
            '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
            '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
            '<fills count="2"><fill><patternFill patternType="none"/></fill>'
            '<fill><patternFill patternType="gray125"/></fill></fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border>'
            "</borders>"
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
            "</cellStyleXfs>"
            f'<cellXfs count="5">{xfs}</cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            "</styleSheet>"
        )


_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_DOC_REL = _REL
_CT = "application/vnd.openxmlformats-officedocument."
