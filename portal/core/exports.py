"""Excel exports (台账): safe cell values and the pieces every export shares."""

from __future__ import annotations

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A cell starting with one of these is run as a formula by spreadsheet programs (formula injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell_text(value) -> str:
    """Text safe for a spreadsheet cell: no control characters, and never read as a formula."""
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value if value is not None else ""))
    return "'" + text if text.startswith(FORMULA_START) else text


def cell(value):
    """A cell value: numbers, dates and booleans as they are, anything else as safe text."""
    if value is None or isinstance(value, (int, float)) or hasattr(value, "isoformat"):
        return value
    return cell_text(value)


def header_row(sheet, titles) -> None:
    """A bold first row on a write-only sheet."""
    cells = []
    for title in titles:
        item = WriteOnlyCell(sheet, value=cell_text(title))
        item.font = Font(bold=True)
        cells.append(item)
    sheet.append(cells)


def print_setup(sheet, header_row: int) -> None:
    """Print a register the way a bureau files it: A4 landscape fitted to the page width, the
    header row repeated on every printed page and frozen on screen, page numbers in the footer.
    Works on normal and write-only sheets."""
    sheet.print_title_rows = f"{header_row}:{header_row}"
    sheet.freeze_panes = f"A{header_row + 1}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.oddFooter.center.text = "&P / &N"
