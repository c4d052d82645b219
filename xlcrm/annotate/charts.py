"""Native Excel charts in a patched package: drawn by XlsxWriter, moved into the copy.

``process`` writes its sheets into the user's own package, part by part; XlsxWriter writes
whole workbooks. So the charts are drawn on a scratch workbook in memory whose sheet has the
same name and column widths as xlcrm's sheet (the charts' references and anchors then hold in
the copy), with the same helpers the company workbook uses (``xlcrm.batch.xlsx``: titles,
fonts, series with their data cached so LibreOffice and WPS draw them without recalculating),
and its drawing and chart parts are copied into the package under free names of their own
(``xlcrmDrawing1.xml``, ``xlcrmChart1.xml``): the inventory of what a copy keeps counts the
user's charts, not xlcrm's.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from collections.abc import Callable, Sequence
from typing import Any

import xlsxwriter
from lxml import etree

from xlcrm.annotate.package import PKG_REL, Package, parse, rels_path, serialize

CT_DRAWING = "application/vnd.openxmlformats-officedocument.drawing+xml"
CT_CHART = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
DRAWING_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/drawing"
CHART_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/chart"

Draw = Callable[[Any, Any], None]  # (XlsxWriter workbook, worksheet): insert the charts


def add_charts(
    package: Package, sheet_part: str, sheet_name: str, widths: Sequence[float], draw: Draw
) -> str | None:
    """Draw the charts of ``sheet_part`` (named ``sheet_name``); its relationship id to them, or None."""
    scratch = io.BytesIO()
    book = xlsxwriter.Workbook(scratch, {"in_memory": True})
    sheet = book.add_worksheet(sheet_name)
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width)
    draw(book, sheet)
    book.close()
    with zipfile.ZipFile(scratch) as made:
        names = made.namelist()
        drawings = [n for n in names if n.startswith("xl/drawings/") and n.endswith(".xml")]
        if not drawings:
            return None
        drawing_xml = made.read(drawings[0])
        rels = parse(made.read(rels_path(drawings[0])))
        charts = {rel.get("Id", ""): made.read(posixpath.normpath(posixpath.join("xl/drawings", rel.get("Target", ""))))
                  for rel in rels}  # fmt: skip
    folder = posixpath.dirname(posixpath.dirname(sheet_part))  # xl/ (or wherever the workbook lives)
    drawing = package.free_name(posixpath.join(folder, "drawings", "xlcrmDrawing{}.xml"))
    package.write(drawing, drawing_xml)
    package.set_content_type(drawing, CT_DRAWING)
    root = etree.Element(f"{{{PKG_REL}}}Relationships", nsmap={None: PKG_REL})
    for rel_id, data in charts.items():
        chart = package.free_name(posixpath.join(folder, "charts", "xlcrmChart{}.xml"))
        package.write(chart, data)
        package.set_content_type(chart, CT_CHART)
        target = posixpath.relpath(chart, posixpath.dirname(drawing))
        etree.SubElement(root, f"{{{PKG_REL}}}Relationship", Id=rel_id, Type=CHART_REL, Target=target)
    package.write(rels_path(drawing), serialize(root))
    return package.add_relationship(sheet_part, DRAWING_REL, drawing)
