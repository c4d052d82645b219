"""The button workbook 客户管理台账.xlsm, read at file level (its VBA with oletools' olevba)."""

from __future__ import annotations

import importlib.util
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest

xw = pytest.importorskip("xlwings")
olevba = pytest.importorskip("oletools.olevba")

from tests.test_templates import describe  # noqa: E402
from tests.xlwings_double import Engine  # noqa: E402
from xlcrm import macros, templates  # noqa: E402
from xlcrm.engine import Options, check  # noqa: E402

COMMITTED = Path(__file__).parent.parent / "workbook_templates"
BOOK = COMMITTED / templates.BUTTON_BOOK


def vba_code(path: Path) -> str:
    parser = olevba.VBA_Parser(str(path))
    try:
        return "\n".join(code for _, _, _, code in parser.extract_macros())
    finally:
        parser.close()


def button_macros(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        vml = b"".join(archive.read(n) for n in archive.namelist() if n.endswith(".vml"))
    return re.findall(r"<x:FmlaMacro>\[0\]!(\w+)</x:FmlaMacro>", vml.decode())


def test_the_vba_runs_python_and_matches_the_pinned_xlwings() -> None:
    code = vba_code(BOOK)
    assert re.search(r'RunPython "import " & mymodule & ";" & mymodule & "\.main\(\)"', code)
    assert f'XLWINGS_VERSION As String = "{xw.__version__}"' in code
    assert re.search(r"Sub SampleCall\(\)", code)
    assert xw.__version__ == "0.37.8"  # the pin in pyproject.toml


def test_every_button_names_a_macro_that_exists() -> None:
    code = vba_code(BOOK)
    buttons = button_macros(BOOK)
    assert len(buttons) == len(templates.BUTTONS) == 3
    assert all(re.search(rf"Sub {name}\(\)", code) for name in buttons)


def test_the_module_beside_the_workbook_calls_xlcrm_macros_main() -> None:
    module_path = BOOK.with_suffix(".py")
    spec = importlib.util.spec_from_file_location("客户管理台账", module_path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main is macros.main
    assert templates.BUTTONS == macros.BUTTONS and templates.CONTROL == macros.CONTROL


def test_the_button_workbook_is_the_generated_one(tmp_path: Path) -> None:
    templates.write_templates(tmp_path)
    with zipfile.ZipFile(BOOK) as a, zipfile.ZipFile(tmp_path / templates.BUTTON_BOOK) as b:
        assert a.namelist() == b.namelist()
        assert a.read("xl/vbaProject.bin") == b.read("xl/vbaProject.bin") == templates.xlwings_vba()
    assert describe(BOOK) == describe(tmp_path / templates.BUTTON_BOOK), "run `make templates`"
    assert button_macros(BOOK) == button_macros(tmp_path / templates.BUTTON_BOOK)
    assert (tmp_path / "客户管理台账.py").read_text() == BOOK.with_suffix(".py").read_text()


def test_the_blank_button_workbook_checks_clean_and_processing_keeps_its_vba(tmp_path: Path) -> None:
    assert check([BOOK], Options()).diagnostics == []
    from click.testing import CliRunner

    from xlcrm.cli import cli

    copy = tmp_path / "台账.xlsm"
    shutil.copy(BOOK, copy)
    done = CliRunner().invoke(cli, ["process", str(copy)])
    assert done.exit_code == 0, done.stderr
    out = tmp_path / "台账.checked.xlsm"
    with zipfile.ZipFile(BOOK) as a, zipfile.ZipFile(out) as b:
        assert a.read("xl/vbaProject.bin") == b.read("xl/vbaProject.bin")
    assert button_macros(out) == button_macros(BOOK)


def test_main_runs_the_action_the_workbook_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.workbooks import write_case

    if "openpyxl-double" not in [e.name for e in xw.engines]:
        xw.engines.add(xw.Engine(impl=Engine()))
    source = write_case(tmp_path / "filled.xlsx", {"客户档案": [{"客户编码": "C001", "联系电话": "123"}]})
    path = tmp_path / "台账.xlsm"
    shutil.copy(BOOK, path)
    book = xw.engines["openpyxl-double"].apps.active.books.open(str(path))
    for name in ("客户档案", "客户评价"):  # the filled rows, typed into the template
        rows = xw.engines["openpyxl-double"].apps.active.books.open(str(source)).sheets[name].used_range.value
        book.sheets[name]["A1"].value = rows
    monkeypatch.setattr(xw.Book, "caller", classmethod(lambda cls: book))

    def run(action: str) -> Any:
        book.sheets[macros.CONTROL][macros.ACTION_CELL].value = action
        macros.main()
        return [s.name for s in book.sheets]

    assert macros.ISSUES in run("检查")
    assert book.sheets["客户档案"]["K2"].color == macros.FILLS["error"]
    run("计算等级与授信")
    assert book.sheets["客户档案"].range("AA1").value == "系统等级"
    assert macros.ISSUES not in run("清除标注")
    assert book.sheets["客户档案"]["K2"].color is None
    with pytest.raises(ValueError, match="未知操作"):
        run("格式化硬盘")
