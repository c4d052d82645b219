#!/usr/bin/env bash
# Regenerate the committed office-program fixtures (needs LibreOffice: apt-get install libreoffice-calc).
#   libreoffice_sample.xlsx  the demo sample, opened and saved again by LibreOffice Calc's own
#                            xlsx writer (its XML, shared strings, styles and cached values)
#   libreoffice_sample.xlsm  the same, saved by LibreOffice as a macro-enabled workbook
#   rich_libreoffice.xlsx    tests/workbooks.py write_rich (formulas, styles, validations, merged
#                            cells, a user's comment, names, hidden sheet) saved by LibreOffice,
#                            so its formulas carry cached values
#   kitchen_libreoffice.xlsx tests/workbooks.py write_kitchen_sink (chart, image, validation,
#                            conditional format, comment, names, hidden and protected sheets,
#                            merged cells, cached formulas, frozen panes) saved by LibreOffice
#   legacy.xls               the demo sample saved by LibreOffice as Excel 97-2003 (BIFF8)
#   staff_libreoffice.xlsx   tests/staff.py write_staff (title rows, merged 部门/客户类别, staff's
#                            own header words, a hidden column, dates typed as text) saved by LibreOffice
#   two_row_libreoffice.xlsx tests/two_row.py write_two_row (a merged title row, a two-row header
#                            with group headings) saved by LibreOffice
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
soffice() { command soffice "-env:UserInstallation=file://$work/profile" "$@"; }  # a private profile
"$root/.venv/bin/python" -c "from pathlib import Path; from xlcrm.sample import write_sample; write_sample(Path('$work/src/libreoffice_sample.xlsx'))"
soffice --headless --norestore --convert-to 'xlsx:Calc MS Excel 2007 XML' --outdir "$work/out" "$work/src/libreoffice_sample.xlsx" >/dev/null 2>"$work/err"
test -s "$work/out/libreoffice_sample.xlsx" || { cat "$work/err"; exit 1; }
soffice --headless --norestore --convert-to 'xlsm:Calc MS Excel 2007 VBA XML' --outdir "$work/out" "$work/src/libreoffice_sample.xlsx" >/dev/null 2>"$work/err"
test -s "$work/out/libreoffice_sample.xlsm" || { cat "$work/err"; exit 1; }
(cd "$root" && .venv/bin/python -c "from pathlib import Path; from tests.workbooks import write_rich; write_rich(Path('$work/src/rich_libreoffice.xlsx'))")
soffice --headless --norestore --convert-to 'xlsx:Calc MS Excel 2007 XML' --outdir "$work/out" "$work/src/rich_libreoffice.xlsx" >/dev/null 2>"$work/err"
test -s "$work/out/rich_libreoffice.xlsx" || { cat "$work/err"; exit 1; }
(cd "$root" && .venv/bin/python -c "from pathlib import Path; from tests.workbooks import write_kitchen_sink; write_kitchen_sink(Path('$work/src/kitchen_libreoffice.xlsx'))")
soffice --headless --norestore --convert-to 'xlsx:Calc MS Excel 2007 XML' --outdir "$work/out" "$work/src/kitchen_libreoffice.xlsx" >/dev/null 2>"$work/err"
test -s "$work/out/kitchen_libreoffice.xlsx" || { cat "$work/err"; exit 1; }
(cd "$root" && .venv/bin/python -c "from pathlib import Path; from tests.staff import write_staff; write_staff(Path('$work/src/staff_libreoffice.xlsx'))")
soffice --headless --norestore --convert-to 'xlsx:Calc MS Excel 2007 XML' --outdir "$work/out" "$work/src/staff_libreoffice.xlsx" >/dev/null 2>"$work/err"
test -s "$work/out/staff_libreoffice.xlsx" || { cat "$work/err"; exit 1; }
(cd "$root" && .venv/bin/python -c "from pathlib import Path; from tests.two_row import write_two_row; write_two_row(Path('$work/src/two_row_libreoffice.xlsx'))")
soffice --headless --norestore --convert-to 'xlsx:Calc MS Excel 2007 XML' --outdir "$work/out" "$work/src/two_row_libreoffice.xlsx" >/dev/null 2>"$work/err"
test -s "$work/out/two_row_libreoffice.xlsx" || { cat "$work/err"; exit 1; }
cp "$work/src/libreoffice_sample.xlsx" "$work/src/legacy.xlsx"
soffice --headless --norestore --convert-to 'xls:MS Excel 97' --outdir "$work/out" "$work/src/legacy.xlsx" >/dev/null 2>"$work/err"
test -s "$work/out/legacy.xls" || { cat "$work/err"; exit 1; }
cp "$work/out/libreoffice_sample.xlsx" "$work/out/libreoffice_sample.xlsm" "$work/out/rich_libreoffice.xlsx" \
   "$work/out/kitchen_libreoffice.xlsx" "$work/out/legacy.xls" "$work/out/staff_libreoffice.xlsx" \
   "$work/out/two_row_libreoffice.xlsx" "$here/"
echo "wrote $here/libreoffice_sample.xlsx and .xlsm"
