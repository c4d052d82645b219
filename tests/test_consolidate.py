"""xlcrm consolidate and xlcrm history: accounting, equality with check, executors, failures, outputs.

The departments are the demo sample (销售一部) made into 销售二部 (参数!部门, another grade
for C001) and 销售三部 (no 参数 sheet: its department comes from 所属部门). Heavy parts — a
process pool, a real Dask LocalCluster, a subprocess interrupted with SIGINT — run once each.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from tests.faults import faulty_check
from tests.office import needs_soffice, soffice
from tests.workbooks import AS_OF, write_case
from xlcrm.batch import history, workbook
from xlcrm.batch.consolidate import Settings, consolidate
from xlcrm.batch.demo import write_department
from xlcrm.batch.discover import sha256_of
from xlcrm.batch.runner import Backend, DaskBackend, ProcessBackend
from xlcrm.batch.worker import Task, check_file
from xlcrm.cli import cli
from xlcrm.engine import Options
from xlcrm.errors import InputError
from xlcrm.sample import write_sample

MONTH = "2025-12"
OPTIONS = Options(as_of=AS_OF)
JSON_KEYS = {
    "code",
    "severity",
    "file",
    "sheet",
    "cell",
    "row",
    "column",
    "customer_code",
    "message",
    "department",
}
MANIFEST_KEYS = {"file", "status", "reason", "department", "sha256", "errors", "warnings"}


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three departments, a renamed CSV and Excel's lock file."""
    folder = tmp_path_factory.mktemp("batch") / MONTH
    write_department(folder / "销售一部.xlsx", "销售一部")
    write_department(folder / "二部" / "销售二部台账.xlsx", "销售二部", capital="不足")
    write_department(folder / "销售三部.xlsx", "销售三部", parameters=False)
    (folder / "坏文件.xlsx").write_text("客户编码,客户名称\nC001,甲\n", encoding="utf-8")
    (folder / "~$销售一部.xlsx").write_bytes(b"\x0cuser" + b"\x00" * 150)
    return folder


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["consolidate", *args, "--as-of", AS_OF.isoformat()])
    return result.exit_code, result.stdout, result.stderr


def run_json(folder: Path, output: Path, *extra: str) -> tuple[int, dict[str, Any], str]:
    """A month consolidated in this process without a history: exit status, the JSON, stderr."""
    code, out, err = run(
        str(folder),
        "--month",
        MONTH,
        "-o",
        str(output),
        "--no-history",
        "--jobs",
        "0",
        "--format",
        "json",
        *extra,
    )
    return code, json.loads(out) if out else {}, err


def test_every_file_is_accounted_for(month: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    shutil.copytree(month, folder)
    shutil.copy(folder / "销售一部.xlsx", folder / "二部" / "销售一部副本.xlsx")  # the same bytes
    shutil.copy(Path(__file__).parent / "data" / "legacy.xls", folder / "旧格式.xls")
    (folder / "空文件.xlsx").write_bytes(b"")
    (folder / "说明.txt").write_text("本月各部门台账", encoding="utf-8")
    from xlcrm.annotate.writer import annotate_all
    from xlcrm.engine import check

    annotate_all(check([folder / "销售一部.xlsx"], OPTIONS), None, in_place=False, force=True)
    shutil.copy(folder / "销售一部.checked.xlsx", folder / "改名的副本.xlsx")
    code, out, err = run(
        str(folder), "--month", MONTH, "-o", str(tmp_path / "汇总.xlsx"), "--jobs", "0", "--format", "json"
    )
    assert code == 2, err
    data = json.loads(out)
    assert set(data) == {"manifest", "diagnostics", "summary"}
    status = {Path(m["file"]).name: (m["status"], m["reason_code"]) for m in data["manifest"]}
    assert status == {
        "销售一部.xlsx": ("checked", None),
        "销售二部台账.xlsx": ("checked", None),
        "销售三部.xlsx": ("checked", None),
        "销售一部副本.xlsx": ("skipped", "duplicate"),
        "~$销售一部.xlsx": ("skipped", "lock_file"),
        "说明.txt": ("skipped", "other_file"),
        "销售一部.checked.xlsx": ("skipped", "annotated_copy"),
        "改名的副本.xlsx": ("skipped", "annotated_copy"),  # recognised by its 问题清单 sheet
        "坏文件.xlsx": ("unusable", "text_renamed"),
        "旧格式.xls": ("unusable", "legacy_xls"),
        "空文件.xlsx": ("unusable", "empty_file"),
    }
    summary = data["summary"]
    assert (summary["files_found"], summary["checked"], summary["unusable"], summary["skipped"]) == (
        11,
        3,
        3,
        5,
    )
    assert summary["files_found"] == summary["checked"] + summary["unusable"] + summary["skipped"]
    assert summary["rows_read"] == summary["rows_company"]
    assert summary["rows_read"]["archive"] == 3 * 13
    for entry in data["manifest"]:
        assert set(entry) >= MANIFEST_KEYS
        assert (entry["reason"] is None) == (entry["status"] == "checked")
        if entry["status"] != "checked":
            assert entry["file"] in entry["reason"]  # one line naming the file
    by_name = {Path(m["file"]).name: m for m in data["manifest"]}
    assert by_name["销售一部副本.xlsx"]["sha256"] == by_name["销售一部.xlsx"]["sha256"]
    assert by_name["销售一部.xlsx"]["sha256"] == sha256_of(folder / "销售一部.xlsx")
    sources = {Path(m["file"]).name: (m["department"], m["department_source"]) for m in data["manifest"]}
    assert sources["销售二部台账.xlsx"] == ("销售二部", "parameters")
    assert sources["销售三部.xlsx"] == ("销售三部", "archive")
    for diagnostic in data["diagnostics"]:
        assert set(diagnostic) >= JSON_KEYS
    # the company workbook of this run is found by a later run in the same folder and skipped
    shutil.copy(tmp_path / "汇总.xlsx", folder / "上月汇总.xlsx")
    code, out, _ = run(
        str(folder),
        "--month",
        MONTH,
        "-o",
        str(tmp_path / "汇总2.xlsx"),
        "--jobs",
        "0",
        "--format",
        "json",
        "--no-history",
    )
    again = {Path(m["file"]).name: m["reason_code"] for m in json.loads(out)["manifest"]}
    assert again["上月汇总.xlsx"] == "company_workbook"


def test_text_report_reconciles_and_progress_is_one_line_per_file(month: Path, tmp_path: Path) -> None:
    code, out, err = run(str(month), "--month", MONTH, "-o", str(tmp_path / "汇总.xlsx"), "--jobs", "0")
    assert code == 2
    assert "文件：找到 5 个 = 已检查 3 + 无法使用 1 + 已跳过 1" in out
    assert "客户档案：读入 39 行 = 公司表 39 行" in out
    assert "已写出：" in out and str(tmp_path / "汇总.xlsx") in out
    lines = [line for line in err.splitlines() if line.startswith("[")]
    assert len(lines) == 4 and lines[-1].startswith("[4/4]")  # the lock file is decided without a worker
    assert any("坏文件.xlsx" in line and "无法使用" in line for line in lines)
    code, _, err = run(
        str(month), "--month", MONTH, "-o", str(tmp_path / "b.xlsx"), "--jobs", "0", "-q", "--no-history"
    )
    assert code == 2 and err == ""
    wrong = CliRunner().invoke(cli, ["consolidate", str(month), "--month", "2025-13"])
    assert wrong.exit_code == 2 and "2025-13" in wrong.stderr


def test_the_text_report_counts_each_file_as_the_manifest_does(month: Path, tmp_path: Path) -> None:
    """A file's errors and warnings are check's and the company blacklist's (POLICY §6); its D1xx beside them."""
    _, data, _ = run_json(month, tmp_path / "j.xlsx")
    cross = {
        m["file"]: sum(
            1 for d in data["diagnostics"] if d["file"] == m["file"] and d["origin"] == "consolidation"
        )
        for m in data["manifest"]
    }
    assert all(cross[m["file"]] for m in data["manifest"] if m["status"] == "checked")  # D101, D102
    for lang, shown in (
        ("zh", "错误 {errors}  警告 {warnings}  另有跨部门问题（D1xx）{n} 条"),
        ("en", "errors {errors}  warnings {warnings}  plus {n} cross-department finding(s) (D1xx)"),
    ):
        _, out, _ = run(
            str(month), "--month", MONTH, "-o", str(tmp_path / f"{lang}.xlsx"), "--jobs", "0",
            "--no-history", "-q", "--lang", lang,
        )  # fmt: skip
        for m in (m for m in data["manifest"] if m["status"] == "checked"):
            line = next(x for x in out.splitlines() if m["file"] in x)
            assert line.endswith(shown.format(errors=m["errors"], warnings=m["warnings"], n=cross[m["file"]]))


def test_one_file_gives_exactly_the_findings_of_check(tmp_path: Path) -> None:
    sample = write_sample(tmp_path / "销售一部.xlsx")
    blacklist = write_case(
        tmp_path / "公司黑名单.xlsx",
        {"黑名单": [{"客户名称": "北京康达医疗器械有限公司", "范围": "公司"}]},
        omit_sheets=("客户档案", "客户评价", "信用评定"),
    )
    checked = CliRunner().invoke(
        cli,
        ["check", str(sample), "--format", "json", "--as-of", "2025-12-31", "--blacklist", str(blacklist)],
    )
    code, out, _ = run(str(sample), "--month", MONTH, "-o", str(tmp_path / "汇总.xlsx"), "--format", "json",
                       "--blacklist", str(blacklist), "--jobs", "0", "--unmask")  # fmt: skip
    expected = json.loads(checked.stdout)["diagnostics"]
    got = json.loads(out)["diagnostics"]
    assert [{k: v for k, v in d.items() if k not in ("department", "origin")} for d in got] == expected
    # masked (the default, POLICY §7): the same findings, the contacts in their messages masked
    _, out, _ = run(str(sample), "--month", MONTH, "-o", str(tmp_path / "汇总2.xlsx"), "--format", "json",
                    "--blacklist", str(blacklist), "--jobs", "0", "--no-history")  # fmt: skip
    masked = [
        {k: v for k, v in d.items() if k not in ("department", "origin")}
        for d in json.loads(out)["diagnostics"]
    ]
    assert [(d["code"], d["cell"]) for d in masked] == [(d["code"], d["cell"]) for d in expected]
    changed = [(m["message"], e["message"]) for m, e in zip(masked, expected, strict=True) if m != e]
    assert changed and all("***" in m and "***" not in e for m, e in changed)
    assert any("jiang@xa-kf" in e and "j***@xa-kf" in m for m, e in changed)
    assert any(d["code"] == "B401" and d["customer_code"] == "C001" for d in expected)  # the file's entry
    assert {d["department"] for d in got} == {"销售一部"}
    assert code == checked.exit_code == 1


def _comparable(done: Any) -> dict[str, Any]:
    from xlcrm.render.consolidation import to_json

    data = to_json(done)
    for key in ("run", "output", "history", "outputs"):
        data["summary"].pop(key)
    return data


def _sheets(path: Path) -> dict[str, list[list[Any]]]:
    import python_calamine

    book = python_calamine.CalamineWorkbook.from_path(str(path))
    sheets = {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}
    manifest = sheets["清单"]
    header = next(i for i, row in enumerate(manifest) if row[0] == "序号")
    sheets["清单"] = [row[:15] for row in manifest[header:]]  # not the run's times, worker and host
    return sheets


def _stored(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = {}
        for name, columns in history.TABLES.items():
            if name in ("runs", "outputs"):  # the run's own record: its times, paths and digests
                continue
            kept = [f'"{c}"' for c, _ in columns if c not in ("worker", "seconds")]
            tables[name] = con.execute(f'SELECT {", ".join(kept)} FROM "{name}" ORDER BY ALL').fetchall()
        return tables
    finally:
        con.close()


@pytest.fixture(scope="module")
def dask_client() -> Any:
    distributed = pytest.importorskip("distributed")
    import dask

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):  # a lost task is reported at once
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_serial_process_pool_and_dask_give_identical_outputs(
    month: Path, tmp_path: Path, dask_client: Any
) -> None:
    results = {}
    backends = {
        "serial": Backend(),
        "pool": ProcessBackend(2),
        "dask": DaskBackend(dask_client.scheduler.address, client=dask_client),
    }
    for name, backend in backends.items():
        out = tmp_path / name
        settings = Settings((month,), MONTH, out / "汇总.xlsx", OPTIONS, history=out / "h.duckdb")
        done = consolidate(settings, backend=backend)
        results[name] = (
            _comparable(done),
            _sheets(out / "汇总.xlsx"),
            _stored(out / "h.duckdb"),
            done.executor,
        )
    serial = results["serial"]
    assert serial[0]["summary"]["checked"] == 3 and serial[0]["summary"]["unusable"] == 1
    assert any(d["code"] == "D101" for d in serial[0]["diagnostics"])  # C001: A in 一部, C in 二部
    for name in ("pool", "dask"):
        assert results[name][0] == serial[0], name
        assert results[name][1] == serial[1], name
        assert results[name][2] == serial[2], name
    assert results["pool"][3].startswith("process pool") and results["dask"][3].startswith("dask")


def _faulty_batch(folder: Path) -> Path:
    write_department(folder / "a.xlsx", "销售一部")
    write_department(folder / "abort.xlsx", "销售二部")
    write_department(folder / "hang.xlsx", "销售三部")
    write_department(folder / "b.xlsx", "销售四部")
    return folder


# The xlcrm classes a checked file's Outcome carries to the client, for the current WIRE: a
# class added or removed is a new format, which a client of another cannot unpickle.
WIRE_CLASSES = {
    3: {
        "xlcrm.batch.worker.Outcome", "xlcrm.batch.worker.ShippedForm", "xlcrm.batch.worker.TableSketch",
        "xlcrm.diagnostics._restored", "xlcrm.phrase.Candidate", "xlcrm.phrase.Phrase",
        "xlcrm.stats.ComplaintStats", "xlcrm.stats.DiscountStats", "xlcrm.stats.ExpenseStats",
        "xlcrm.stats.RevenueStats", "xlcrm.stats.Statistics", "xlcrm.stats.VisitStats",
    },
}  # fmt: skip


def test_an_outcome_carries_the_classes_of_its_wire_format(tmp_path: Path) -> None:
    """T202's candidates became Candidate objects while WIRE stayed 2: a client of the earlier
    format (both sides 0.1.0/2) let such workers in and failed to unpickle their outcomes."""
    import io
    import pickle

    from xlcrm.batch import worker

    path = write_sample(tmp_path / "s.xlsx")
    outcome = check_file(Task(0, str(path), str(path), None, Options(as_of=AS_OF)))
    assert any(d.code == "T202" for d in outcome.diagnostics)
    seen: set[str] = set()

    class Seen(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> Any:
            if module.startswith("xlcrm"):
                seen.add(f"{module}.{name}")
            return super().find_class(module, name)

    Seen(io.BytesIO(pickle.dumps(outcome))).load()
    assert seen == WIRE_CLASSES.get(worker.WIRE)


def test_dask_workers_returning_another_format_are_refused(
    dask_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers of another xlcrm (another outcome format) make one clear line, not a run that breaks later.

    Both sides said 0.1.0 when the diagnostics' format changed: a mixed cluster got through.
    """
    from xlcrm.batch import worker

    assert DaskBackend(dask_client.scheduler.address, client=dask_client).client is dask_client
    monkeypatch.setattr(worker, "WIRE", worker.WIRE - 1)  # this side older than the cluster's workers
    with pytest.raises(InputError) as refused:
        DaskBackend(dask_client.scheduler.address, client=dask_client)
    assert refused.value.reason == "scheduler" and f"/{worker.WIRE}" in refused.value.message()


@pytest.mark.parametrize("executor", ["pool", "dask"])
def test_a_crashed_or_hung_worker_costs_only_its_file(
    executor: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    folder = _faulty_batch(tmp_path / "in")
    if executor == "pool":
        backend: Backend = ProcessBackend(2)
    else:
        client = request.getfixturevalue("dask_client")
        backend = DaskBackend(client.scheduler.address, client=client)
    # 10 s: long enough for a good file on a loaded 2-core machine, short for the one that hangs
    settings = Settings((folder,), MONTH, tmp_path / "汇总.xlsx", OPTIONS, history=None, timeout=10)
    done = consolidate(settings, backend=backend, work=faulty_check)
    reasons = {
        Path(o.file).name: (o.status, o.reason.key if o.reason else None) for o in done.company.outcomes
    }
    assert reasons == {
        "a.xlsx": ("checked", None),
        "abort.xlsx": ("unusable", "worker_lost"),
        "hang.xlsx": ("unusable", "timeout"),
        "b.xlsx": ("checked", None),
    }
    assert done.company.exit_code == 2
    assert (tmp_path / "汇总.xlsx").is_file()
    messages = [o.reason.message("zh") for o in done.company.outcomes if o.reason]
    assert any("工作进程意外终止" in m for m in messages) and any("超过 10 秒" in m for m in messages)


def test_a_worker_killed_while_reading_leaves_nothing_in_the_temporary_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker killed mid-file (here by its timeout) cannot remove its temporaries; the run does."""
    import tempfile

    system = tmp_path / "tmp"
    system.mkdir()
    monkeypatch.setenv("TMPDIR", str(system))  # what the pool's processes would use by themselves
    monkeypatch.setattr(tempfile, "tempdir", str(system))
    folder = tmp_path / "in"
    write_department(folder / "a.xlsx", "销售一部")
    write_department(folder / "spool-hang.xlsx", "销售二部")
    settings = Settings((folder,), MONTH, tmp_path / "汇总.xlsx", OPTIONS, history=None, timeout=10)
    done = consolidate(settings, backend=ProcessBackend(2), work=faulty_check)
    reasons = {Path(o.file).name: o.reason.key if o.reason else None for o in done.company.outcomes}
    assert reasons == {"a.xlsx": None, "spool-hang.xlsx": "timeout"}
    assert list(system.iterdir()) == []


def test_a_file_that_changed_since_it_was_found_is_unusable(tmp_path: Path) -> None:
    sample = write_sample(tmp_path / "a.xlsx")
    outcome = check_file(Task(0, str(sample), str(sample), "0" * 64, OPTIONS))
    assert outcome.status == "unusable" and outcome.reason is not None and outcome.reason.key == "changed"
    outcome = check_file(Task(0, str(sample), str(sample), sha256_of(sample), OPTIONS))
    assert outcome.status == "checked" and outcome.department == "销售一部"


def test_a_worker_ships_its_findings_with_their_messages_rendered(tmp_path: Path) -> None:
    """The sample's findings come back with both messages: the client shows and stores them as they are."""
    import dataclasses

    sample = write_sample(tmp_path / "a.xlsx")
    outcome = check_file(Task(0, str(sample), str(sample), None, OPTIONS))
    assert outcome.diagnostics
    for diagnostic in outcome.diagnostics:
        fresh = dataclasses.replace(diagnostic)  # the same values, nothing rendered yet
        assert fresh._text == (None, None)
        assert diagnostic._text == (fresh.message("zh"), fresh.message("en"))


def test_history_rerun_replaces_the_month_and_lists_it(month: Path, tmp_path: Path) -> None:
    store = tmp_path / "h.duckdb"
    first = consolidate(Settings((month,), "2025-11", tmp_path / "11.xlsx", OPTIONS, history=store))
    consolidate(Settings((month,), MONTH, tmp_path / "12.xlsx", OPTIONS, history=store))
    fewer = tmp_path / "fewer"
    fewer.mkdir()
    shutil.copy(month / "销售一部.xlsx", fewer)
    consolidate(Settings((fewer,), MONTH, tmp_path / "12.xlsx", OPTIONS, history=store, force=True))
    months = {row["month"]: row for row in history.months(store)}
    assert list(months) == ["2025-11", MONTH]
    assert (months[MONTH]["files_found"], months[MONTH]["checked"], months[MONTH]["customers"]) == (1, 1, 13)
    assert months["2025-11"]["customers"] == first.company.tables["archive"].height == 39
    con = duckdb.connect(str(store), read_only=True)
    assert con.execute("SELECT count(*) FROM customers WHERE month = ?", [MONTH]).fetchone() == (13,)
    assert con.execute("SELECT count(*) FROM runs").fetchone() == (2,)
    row = con.execute(
        "SELECT computed_tier, computed_grade, credit_limit, credit_exposure, products FROM customers "
        "WHERE month = '2025-11' AND department = '销售一部' AND customer_code = 'C001'"
    ).fetchone()
    assert row == ("VIP客户", "A", 700000.0, 320000.0, ["假肢", "矫形器"])
    con.close()
    result = CliRunner().invoke(cli, ["history", "--history", str(store)])
    assert result.exit_code == 0
    assert "2025-11" in result.stdout and MONTH in result.stdout
    listed = json.loads(
        CliRunner().invoke(cli, ["history", "--history", str(store), "--format", "json"]).stdout
    )
    assert [r["month"] for r in listed] == ["2025-11", MONTH] and listed[1]["customers"] == 13


def test_a_failing_run_leaves_the_history_and_the_output_as_they_were(month: Path, tmp_path: Path) -> None:
    store = tmp_path / "h.duckdb"
    consolidate(Settings((month,), MONTH, tmp_path / "12.xlsx", OPTIONS, history=store))
    before = _stored(store)
    written = (tmp_path / "12.xlsx").read_bytes()

    def fail(table: str) -> None:
        if table == "customers":  # manifest and submissions are in, the rest not yet
            raise RuntimeError("disk full")

    fewer = tmp_path / "fewer"
    fewer.mkdir()
    shutil.copy(month / "销售一部.xlsx", fewer)
    with pytest.raises(RuntimeError):
        consolidate(
            Settings((fewer,), MONTH, tmp_path / "12.xlsx", OPTIONS, history=store, force=True),
            after_insert=fail,
        )
    assert _stored(store) == before
    assert (tmp_path / "12.xlsx").read_bytes() == written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["12.xlsx", "fewer", "h.duckdb"]  # no temporary left
    fresh = tmp_path / "new.duckdb"  # a history the failing run would have made: not left behind empty
    with pytest.raises(RuntimeError):
        consolidate(
            Settings((fewer,), MONTH, tmp_path / "13.xlsx", OPTIONS, history=fresh), after_insert=fail
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["12.xlsx", "fewer", "h.duckdb"]


def test_a_rename_that_fails_leaves_the_history_and_the_outputs_as_they_were(
    month: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The workbook is in place and the HTML report's rename fails: the month is not stored.

    The renames came after the history's commit: the month was stored, naming outputs that
    were never written, and the earlier workbook was already replaced.
    """
    import os

    store, target, html = tmp_path / "h.duckdb", tmp_path / "12.xlsx", tmp_path / "12.html"
    consolidate(Settings((month,), MONTH, target, OPTIONS, history=store, html=html))
    before = _stored(store)
    written, report = target.read_bytes(), html.read_bytes()
    real_replace = os.replace

    def replace_fails_for_the_report(source: Any, destination: Any) -> None:
        if Path(destination) == html and str(source).endswith(".tmp"):  # the new report, not the old one
            raise PermissionError(13, "Permission denied")
        real_replace(source, destination)

    fewer = tmp_path / "fewer"
    fewer.mkdir()
    shutil.copy(month / "销售一部.xlsx", fewer)
    monkeypatch.setattr(os, "replace", replace_fails_for_the_report)
    with pytest.raises(InputError) as refused:
        consolidate(Settings((fewer,), MONTH, target, OPTIONS, history=store, force=True, html=html))
    assert refused.value.reason == "output" and str(html) in refused.value.message()
    assert _stored(store) == before
    assert target.read_bytes() == written and html.read_bytes() == report  # the workbook put back
    assert sorted(p.name for p in tmp_path.iterdir()) == ["12.html", "12.xlsx", "fewer", "h.duckdb"]


def test_an_earlier_output_that_cannot_be_put_back_is_named(
    month: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every rename to the report fails, the earlier report's return too: the message says where it is."""
    import os

    store, target, html = tmp_path / "h.duckdb", tmp_path / "12.xlsx", tmp_path / "12.html"
    consolidate(Settings((month,), MONTH, target, OPTIONS, history=store, html=html))
    before, report = _stored(store), html.read_bytes()
    real_replace = os.replace

    def replace_fails_to_the_report(source: Any, destination: Any) -> None:
        if Path(destination) == html:
            raise PermissionError(13, "Permission denied")
        real_replace(source, destination)

    monkeypatch.setattr(os, "replace", replace_fails_to_the_report)
    with pytest.raises(InputError) as refused:
        consolidate(Settings((month,), MONTH, target, OPTIONS, history=store, force=True, html=html))
    aside = [p for p in tmp_path.iterdir() if p.name.startswith(".12.html.")]
    assert len(aside) == 1 and aside[0].read_bytes() == report
    assert str(aside[0]) in refused.value.message() and str(html) in refused.value.message()
    assert _stored(store) == before


def test_a_folder_at_the_output_path_is_refused_before_anything_runs(month: Path, tmp_path: Path) -> None:
    """``-o`` naming a folder, even with ``--force``: one line, exit 2, and no history made."""
    (tmp_path / "12.xlsx").mkdir()
    code, _, err = run(
        str(month), "--month", MONTH, "-o", str(tmp_path / "12.xlsx"), "--force", "--jobs", "0"
    )
    assert (
        code == 2
        and "文件夹" in err
        and str(tmp_path / "12.xlsx") in err
        and len(err.strip().splitlines()) == 1
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["12.xlsx"]
    assert (tmp_path / "12.xlsx").is_dir()


def test_ctrl_c_while_the_outputs_are_written_rolls_the_history_back(
    month: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The history's tables go in on a thread while the workbook is written: Ctrl-C then stops both."""
    import threading

    from xlcrm.batch import consolidate as module

    store = tmp_path / "h.duckdb"
    consolidate(Settings((month,), MONTH, tmp_path / "12.xlsx", OPTIONS, history=store))
    before = _stored(store)
    written = (tmp_path / "12.xlsx").read_bytes()
    inserting = threading.Event()

    def interrupted(*_: Any) -> None:
        assert inserting.wait(30)  # the history's thread has begun filling its tables
        raise KeyboardInterrupt

    monkeypatch.setattr(module, "_make", interrupted)
    with pytest.raises(KeyboardInterrupt):
        consolidate(
            Settings((month,), MONTH, tmp_path / "12.xlsx", OPTIONS, history=store, force=True),
            after_insert=lambda table: inserting.set(),
        )
    assert not [t for t in threading.enumerate() if t.name.startswith("xlcrm-history")]
    assert _stored(store) == before
    assert (tmp_path / "12.xlsx").read_bytes() == written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["12.xlsx", "h.duckdb"]  # no temporary left


def test_ctrl_c_while_the_workbook_cleans_up_leaves_no_scratch_folder(
    month: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Ctrl-C as the workbook's scratch folder (XlsxWriter's temporary files) is removed left
    an empty .xlcrm-… folder beside the outputs (seen with one SIGINT to a real run)."""
    removed = shutil.rmtree

    def interrupted(path: Any, *args: Any, **kwargs: Any) -> None:
        if Path(path).name.startswith(".xlcrm-"):
            signal.raise_signal(signal.SIGINT)
        removed(path, *args, **kwargs)

    monkeypatch.setattr(workbook.shutil, "rmtree", interrupted)
    with pytest.raises(KeyboardInterrupt):
        consolidate(Settings((month,), MONTH, tmp_path / "12.xlsx", OPTIONS, history=tmp_path / "h.duckdb"))
    assert list(tmp_path.iterdir()) == []  # no output, no history, no temporary, no scratch folder


def test_a_report_that_fails_while_the_history_fills_leaves_it_as_it_was(
    month: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The history's thread starts before the report is built: a failing report rolls it back."""
    import threading

    from xlcrm.batch import consolidate as module

    store = tmp_path / "h.duckdb"
    consolidate(Settings((month,), "2025-11", tmp_path / "11.xlsx", OPTIONS, history=store))
    before = _stored(store)
    inserting = threading.Event()

    def failing(*_: Any, **__: Any) -> None:
        assert inserting.wait(30)  # the history's thread has begun filling its tables
        raise RuntimeError("report failed")

    monkeypatch.setattr(module.report, "build", failing)
    with pytest.raises(RuntimeError, match="report failed"):
        consolidate(
            Settings((month,), MONTH, tmp_path / "12.xlsx", OPTIONS, history=store),
            after_insert=lambda table: inserting.set(),
        )
    assert not [t for t in threading.enumerate() if t.name.startswith("xlcrm-history")]
    assert _stored(store) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["11.xlsx", "h.duckdb"]  # no output, no temporary


def test_ctrl_c_while_the_outputs_are_put_in_place_says_they_are_complete(
    month: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A signal held back through the commit and the renames: all is in place, and the message says so.

    It said "没有写出公司汇总，历史库未改动" although the workbook and the month were there.
    """
    import os

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # Python's own: raises
    try:
        real_replace = os.replace

        def replace_during_ctrl_c(source: Any, target: Any) -> None:
            signal.raise_signal(signal.SIGINT)  # held: noted, raised once the renames are done
            real_replace(source, target)

        monkeypatch.setattr(os, "replace", replace_during_ctrl_c)
        store, target = tmp_path / "h.duckdb", tmp_path / "12.xlsx"
        code, _, err = run(
            str(month), "--month", MONTH, "-o", str(target), "--jobs", "0", "--history", str(store)
        )
    finally:
        signal.signal(signal.SIGINT, previous)
    assert code == 130, err
    assert "本次运行在中断前已完成" in err and str(target) in err and "没有写出" not in err
    assert zipfile.is_zipfile(target)
    con = duckdb.connect(str(store), read_only=True)
    try:
        assert con.execute("SELECT DISTINCT month FROM runs").fetchall() == [(MONTH,)]
    finally:
        con.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["12.xlsx", "h.duckdb"]  # no temporary left


def test_an_output_written_meanwhile_is_refused_before_the_month_is_stored(
    month: Path, tmp_path: Path
) -> None:
    """Someone writes the output while the month runs: refused (exit 2), and the history stays without it.

    The check came after the history's commit: the month was stored, naming a file it never wrote.
    """
    store, target = tmp_path / "h.duckdb", tmp_path / "12.xlsx"

    def someone_writes(table: str) -> None:
        if not target.exists():
            target.write_bytes(b"someone's file")

    with pytest.raises(InputError) as refused:
        consolidate(Settings((month,), MONTH, target, OPTIONS, history=store), after_insert=someone_writes)
    assert refused.value.reason == "exists" and refused.value.file == str(target)
    assert target.read_bytes() == b"someone's file"
    assert not store.exists()  # the history this run began is gone with its month
    assert sorted(p.name for p in tmp_path.iterdir()) == ["12.xlsx"]  # no temporary left


def test_a_failing_first_run_keeps_a_month_another_run_stored_meanwhile(
    month: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two first runs on one new history: the one that fails must not remove the file the
    other has stored its month in since (it decided "I made it" before connecting)."""
    store = tmp_path / "h.duckdb"
    real_connect = history._connect
    other_done: list[bool] = []

    def connect_after_another_run(path: Path, *, read_only: bool) -> Any:
        if not read_only and not other_done:  # another run stores 2025-11 before this one connects
            other_done.append(True)
            consolidate(Settings((month,), "2025-11", tmp_path / "11.xlsx", OPTIONS, history=store))
        return real_connect(path, read_only=read_only)

    monkeypatch.setattr(history, "_connect", connect_after_another_run)
    target = tmp_path / "12.xlsx"

    def someone_writes(table: str) -> None:
        if not target.exists():
            target.write_bytes(b"someone's file")

    with pytest.raises(InputError):
        consolidate(Settings((month,), MONTH, target, OPTIONS, history=store), after_insert=someone_writes)
    monkeypatch.setattr(history, "_connect", real_connect)
    assert [m["month"] for m in history.months(store)] == ["2025-11"]


def test_ctrl_c_while_the_demo_puts_its_outputs_in_place_says_they_are_complete(tmp_path: Path) -> None:
    """xlcrm demo consolidates too: its late Ctrl-C gave a traceback (no handler in main())."""
    script = (
        "import os, signal, sys\n"
        "real = os.replace\n"
        "def replace(a, b):\n"
        "    if str(b).endswith('.xlsx') and '公司汇总' in str(b):\n"
        "        signal.raise_signal(signal.SIGINT)\n"
        "    real(a, b)\n"
        "os.replace = replace\n"
        "from xlcrm.cli import main\n"
        f"sys.argv = ['xlcrm', 'demo', '--out', {str(tmp_path / 'demo')!r}]\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 130, done.stderr
    assert "Traceback" not in done.stderr and "本次运行在中断前已完成" in done.stderr, done.stderr
    assert list((tmp_path / "demo").rglob("公司汇总*.xlsx"))


def test_an_output_at_an_input_or_at_the_history_is_refused_even_with_force(tmp_path: Path) -> None:
    """``-o``/``--csv`` naming a submission, ``--html`` naming the history: one line, nothing touched."""
    folder = tmp_path / MONTH
    write_department(folder / "销售一部.xlsx", "销售一部")
    write_department(folder / "销售二部.xlsx", "销售二部")
    submission = folder / "销售一部.xlsx"
    before = sha256_of(submission)
    stored = tmp_path / "h.duckdb"
    code, _, _ = run(
        str(folder), "--month", MONTH, "-o", str(tmp_path / "a.xlsx"), "--history", str(stored), "--jobs", "0"
    )
    assert code in (0, 1) and history.months(stored)
    history_bytes = stored.read_bytes()
    for flag, path in (("-o", submission), ("--csv", submission), ("--html", stored)):
        args = [str(folder), "--month", MONTH, "--history", str(stored), "--jobs", "0", "--force"]
        if flag != "-o":
            args += ["-o", str(tmp_path / "b.xlsx")]
        code, _, err = run(*args, flag, str(path))
        assert code == 2 and str(path) in err and len(err.strip().splitlines()) == 1, (flag, err)
        assert ("输入文件" if path == submission else "历史库") in err
        assert sha256_of(submission) == before and stored.read_bytes() == history_bytes
        assert not (tmp_path / "b.xlsx").exists()


def test_a_submission_skipped_as_a_duplicate_is_still_an_input(tmp_path: Path) -> None:
    """Two copies of one submission: the second, skipped as the same bytes, was replaced by -o --force."""
    folder = tmp_path / MONTH
    write_department(folder / "a.xlsx", "销售一部")
    copy = folder / "b.xlsx"
    shutil.copyfile(folder / "a.xlsx", copy)
    before = copy.read_bytes()
    for flag in ("-o", "--csv"):
        args = [str(folder), "--month", MONTH, "--no-history", "--jobs", "0", "--force"]
        if flag != "-o":
            args += ["-o", str(tmp_path / "o.xlsx")]
        code, _, err = run(*args, flag, str(copy))
        assert code == 2 and "输入文件" in err and len(err.strip().splitlines()) == 1, (flag, err)
        assert copy.read_bytes() == before and not (tmp_path / "o.xlsx").exists()


def test_a_department_workbook_at_the_history_is_refused_even_with_force(tmp_path: Path) -> None:
    """--history named as a department workbook: the department workbook replaced the history."""
    folder = tmp_path / MONTH
    write_department(folder / "销售一部.xlsx", "销售一部")
    stored = tmp_path / "out" / "c_销售一部.xlsx"
    args = [str(folder), "--month", MONTH, "-o", str(tmp_path / "out" / "c.xlsx"), "--jobs", "0"]
    code, _, err = run(
        *args, "--history", str(stored), "--split-by-department", "--password", "pw", "--force"
    )
    last = err.strip().splitlines()[-1]  # after the progress line
    assert code == 2 and last == f"{stored}：无法写入（与历史库是同一个文件）。", err
    assert not (tmp_path / "out" / "c.xlsx").exists()


def test_an_encrypted_or_legacy_file_or_the_blacklist_at_the_output_is_refused(tmp_path: Path) -> None:
    """An encrypted submission or a legacy .xls at -o (they look alike unopened), or the --blacklist file."""
    import io

    import msoffcrypto

    folder = tmp_path / MONTH
    write_department(folder / "销售一部.xlsx", "销售一部")
    plain = folder / "销售二部.xlsx"
    write_department(plain, "销售二部")
    data = plain.read_bytes()
    with plain.open("wb") as sink:
        msoffcrypto.format.ooxml.OOXMLFile(io.BytesIO(data)).encrypt("pw", sink)
    legacy = folder / "旧台账.xls"
    legacy.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    blacklist = write_case(
        tmp_path / "黑名单.xlsx",
        {"黑名单": [{"客户名称": "某公司"}]},
        omit_sheets=("客户档案", "客户评价", "信用评定"),
    )
    kept = {p: p.read_bytes() for p in (plain, legacy, blacklist)}
    company = folder / "公司汇总.xlsx"  # the company workbook --password encrypted, rewritten next month
    for _ in range(2):
        code, done, err = run_json(folder, company, "--force", "--password", "pw")
        assert code == 2, err  # 旧台账.xls is unusable
        assert {Path(m["file"]).name: m["status"] for m in done["manifest"]}.get("公司汇总.xlsx") in (
            None,
            "skipped",
        )
    kept[company] = company.read_bytes()
    for target, extra in (
        (plain, ["--password", "pw"]),
        (legacy, []),
        (blacklist, ["--blacklist", str(blacklist)]),
    ):
        code, _, err = run(
            str(folder), "--month", MONTH, "-o", str(target), "--force", "--no-history", "--jobs", "0", *extra
        )
        assert code == 2 and "输入文件" in err and len(err.strip().splitlines()) == 1, err
    assert {p: p.read_bytes() for p in kept} == kept


def test_a_department_workbook_never_replaces_a_submission(tmp_path: Path) -> None:
    """--split-by-department whose department file would be one of the month's submissions: refused."""
    folder = tmp_path / MONTH
    submission = (
        folder / "汇总_销售一部.xlsx"
    )  # 销售一部's own file, named as its department workbook would be
    write_department(submission, "销售一部")
    write_department(folder / "销售二部.xlsx", "销售二部")
    before = submission.read_bytes()
    code, _, err = run(
        str(folder),
        "--month",
        MONTH,
        "-o",
        str(folder / "汇总.xlsx"),
        "--split-by-department",
        "--password",
        "pw",
        "--force",
        "--no-history",
        "--jobs",
        "0",
    )
    assert code == 2 and "输入文件" in err and "汇总_销售一部.xlsx" in err, err
    assert submission.read_bytes() == before and not (folder / "汇总.xlsx").exists()


def test_an_earlier_company_workbook_at_the_output_path_is_replaced_with_force(tmp_path: Path) -> None:
    """The month's folder holding last run's company workbook: skipped as such, replaced with ``--force``."""
    folder = tmp_path / MONTH
    write_department(folder / "销售一部.xlsx", "销售一部")
    target = folder / "公司汇总.xlsx"
    code, _, _ = run(str(folder), "--month", MONTH, "-o", str(target), "--no-history", "--jobs", "0")
    assert code in (0, 1) and target.exists()
    code, done, _ = run_json(folder, target, "--force")
    assert code in (0, 1)
    rows = {Path(m["file"]).name: m for m in done["manifest"]}
    assert rows["公司汇总.xlsx"]["status"] == "skipped" and rows["销售一部.xlsx"]["status"] == "checked"


@pytest.mark.parametrize("own_passwords", [False, True])
def test_earlier_department_workbooks_in_the_month_folder_are_replaced_with_force(
    tmp_path: Path, own_passwords: bool
) -> None:
    """A split month written into its own folder can be run again: last run's department
    workbooks (opened with --password or their own) are skipped as xlcrm's, not refused as inputs."""
    folder = tmp_path / MONTH
    write_department(folder / "销售一部.xlsx", "销售一部")
    write_department(folder / "销售二部.xlsx", "销售二部")
    target = folder / "公司汇总.xlsx"
    split = ["--split-by-department", "--password", "pw", "--no-history", "--jobs", "0"]
    if own_passwords:
        (tmp_path / "pw.csv").write_text("销售一部,一部\n销售二部,二部\n", encoding="utf-8")
        split += ["--passwords", str(tmp_path / "pw.csv")]
    code, _, err = run(str(folder), "--month", MONTH, "-o", str(target), *split)
    assert code in (0, 1) and (folder / "公司汇总_销售二部.xlsx").exists(), err
    code, _, err = run(str(folder), "--month", MONTH, "-o", str(target), *split)
    assert code == 2 and "已存在" in err and len(err.strip().splitlines()) == 1, err  # without --force
    code, out, err = run(
        str(folder), "--month", MONTH, "-o", str(target), *split, "--force", "--format", "json"
    )
    assert code in (0, 1), err
    rows = {Path(m["file"]).name: m["status"] for m in json.loads(out)["manifest"]}
    assert rows == {
        "公司汇总.xlsx": "skipped",
        "公司汇总_销售一部.xlsx": "skipped",
        "公司汇总_销售二部.xlsx": "skipped",
        "销售一部.xlsx": "checked",
        "销售二部.xlsx": "checked",
    }


def test_other_spreadsheet_formats_in_a_folder_are_unusable_not_skipped(tmp_path: Path) -> None:
    """An ``.xlsb`` or ``.ods`` among the month's files is a workbook check refuses: unusable, exit 2."""
    folder = tmp_path / MONTH
    write_department(folder / "销售一部.xlsx", "销售一部")
    (folder / "销售二部.xlsb").write_bytes((folder / "销售一部.xlsx").read_bytes()[::-1])
    (folder / "销售三部.ods").write_bytes(b"PK\x03\x04 not really")
    code, done, _ = run_json(folder, tmp_path / "o.xlsx")
    statuses = {Path(m["file"]).name: m["status"] for m in done["manifest"]}
    assert code == 2 and statuses == {
        "销售一部.xlsx": "checked",
        "销售二部.xlsb": "unusable",
        "销售三部.ods": "unusable",
    }


def test_a_database_that_is_not_an_xlcrm_history_is_one_line(month: Path, tmp_path: Path) -> None:
    """Another DuckDB file at --history: refused by ``history`` and ``consolidate``, left as it was."""
    other = tmp_path / "other.duckdb"
    con = duckdb.connect(str(other))
    con.execute("CREATE TABLE runs (x INTEGER)")
    con.execute("INSERT INTO runs VALUES (1)")
    con.close()
    before = other.read_bytes()
    listing = CliRunner().invoke(cli, ["history", "--history", str(other)])
    code, _, err = run(
        str(month), "--month", MONTH, "-o", str(tmp_path / "o.xlsx"), "--history", str(other), "--jobs", "0"
    )
    for status, text in ((listing.exit_code, listing.stderr), (code, err)):
        assert status == 2 and "不是 xlcrm 的历史库" in text and str(other) in text
        assert len(text.strip().splitlines()) == 1 and "内部错误" not in text
    assert other.read_bytes() == before and not (tmp_path / "o.xlsx").exists()
    # consolidate may go on without the history; the history command has no --no-history
    assert "--no-history" in err and "--no-history" not in listing.stderr
    english = CliRunner().invoke(cli, ["history", "--history", str(other), "--lang", "en"])
    assert english.exit_code == 2 and english.stderr.startswith(
        f"{other}: the history database cannot be used"
    )
    assert "--no-history" not in english.stderr and "nothing was written" not in english.stderr
    assert "(not an xlcrm history)" in english.stderr


def test_a_history_that_is_a_pipe_is_one_line_not_a_hang(month: Path, tmp_path: Path) -> None:
    """DuckDB opened a FIFO at --history and waited for a writer: ``history`` and ``consolidate`` hung."""
    import os
    import threading

    fifo = tmp_path / "h.duckdb"
    os.mkfifo(fifo)
    stop = threading.Event()

    def writer() -> None:  # whatever opens the pipe gets a few bytes that are no database, then EOF
        while not stop.is_set():
            try:
                handle = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:  # no reader yet
                time.sleep(0.01)
                continue
            with contextlib.suppress(OSError):
                os.write(handle, b"not a database")
            os.close(handle)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        listing = CliRunner().invoke(cli, ["history", "--history", str(fifo)])
        code, _, err = run(str(month), "--month", MONTH, "-o", str(tmp_path / "o.xlsx"), "--history", str(fifo),
                           "--jobs", "0")  # fmt: skip
    finally:
        stop.set()
        thread.join(5)
    for status, text in ((listing.exit_code, listing.stderr), (code, err)):
        assert (
            status == 2 and "不是文件" in text and str(fifo) in text and len(text.strip().splitlines()) == 1
        )
    assert not (tmp_path / "o.xlsx").exists()


def test_linked_files_and_folders_are_all_listed(tmp_path: Path) -> None:
    """A linked folder is followed; a file reached again through a link is a listed duplicate; a loop ends."""
    folder = tmp_path / MONTH
    write_department(folder / "销售一部.xlsx", "销售一部")
    shared = tmp_path / "share" / "销售二部"
    write_department(shared / "b.xlsx", "销售二部")
    (folder / "二部").symlink_to(shared, target_is_directory=True)
    (folder / "别名.xlsx").symlink_to(folder / "销售一部.xlsx")
    (folder / "回环").symlink_to(folder, target_is_directory=True)
    code, done, _ = run_json(folder, tmp_path / "o.xlsx")
    assert code in (0, 1)
    statuses = {
        str(Path(m["file"]).relative_to(folder)): (m["status"], m["reason"]) for m in done["manifest"]
    }
    assert statuses["二部/b.xlsx"][0] == "checked"
    pair = sorted([statuses["销售一部.xlsx"], statuses["别名.xlsx"]], key=lambda s: s[0])
    assert pair[0] == ("checked", None) and pair[1][0] == "skipped"  # the file and its link: one checked
    assert all(status == "skipped" for name, (status, _) in statuses.items() if name.startswith("回环"))
    summary = done["summary"]
    assert (
        summary["files_found"]
        == len(done["manifest"])
        == summary["checked"] + summary["unusable"] + summary["skipped"]
    )


def test_a_link_in_a_folder_given_twice_is_listed_once(tmp_path: Path) -> None:
    """The same name reached twice is found once, a link's too (it was listed once per walk)."""
    folder = tmp_path / MONTH
    write_department(folder / "销售一部.xlsx", "销售一部")
    (folder / "别名.xlsx").symlink_to(folder / "销售一部.xlsx")
    code, done, _ = run_json(folder, tmp_path / "o.xlsx", str(folder), f"{folder}/")
    assert code in (0, 1)
    files = sorted(Path(m["file"]).name for m in done["manifest"])
    assert files == ["别名.xlsx", "销售一部.xlsx"] and done["summary"]["files_found"] == 2


def test_a_folder_that_cannot_be_read_is_unusable_not_silently_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A subfolder without permission to list it: its files were left out without a word (os.walk
    ignores the error), and the month looked complete. Now the folder is an unusable row, exit 2."""
    import os

    folder = tmp_path / MONTH
    write_department(folder / "销售一部.xlsx", "销售一部")
    write_department(folder / "二部" / "销售二部.xlsx", "销售二部")
    listing = os.scandir

    def denied(path: Any = ".") -> Any:  # as for a folder without read permission (tests run as root)
        if isinstance(path, (str, os.PathLike)) and Path(path).name == "二部":
            raise PermissionError(13, "Permission denied", str(path))
        return listing(path)

    monkeypatch.setattr(os, "scandir", denied)
    code, done, _ = run_json(folder, tmp_path / "o.xlsx")
    rows = {Path(m["file"]).name: m for m in done["manifest"]}
    assert code == 2 and sorted(rows) == ["二部", "销售一部.xlsx"]
    assert rows["二部"]["status"] == "unusable" and "无法读取这个文件夹" in rows["二部"]["reason"]
    summary = done["summary"]
    assert (summary["files_found"], summary["checked"], summary["unusable"]) == (2, 1, 1)


@pytest.mark.parametrize("seconds", ["nan", "inf", "1e300"])
def test_a_timeout_that_is_no_number_of_seconds_is_refused(month: Path, tmp_path: Path, seconds: str) -> None:
    """--timeout nan made every worker "die" (请把这个文件交给 IT); inf and 1e300 an internal error."""
    code, out, err = run(str(month), "--month", MONTH, "-o", str(tmp_path / "o.xlsx"), "--no-history",
                         "--jobs", "1", "--timeout", seconds)  # fmt: skip
    assert code == 2 and "--timeout" in err and "内部错误" not in err and not out, err
    assert not (tmp_path / "o.xlsx").exists()


def test_a_department_named_by_its_file_is_normalised_as_any_other(tmp_path: Path) -> None:
    """A department from the file name "销售１部 .xlsx" was "销售１部 " beside 参数!部门 销售1部 elsewhere:
    two departments, no D104 (and a D106 next month when the file is renamed)."""
    from tests.months import customer
    from tests.workbooks import write_departments

    def archive(code: str) -> dict[str, Any]:
        return {"客户档案": [customer(code, f"{code}有限公司", 801 + len(code), 所属部门=None)]}

    write_departments(tmp_path / MONTH, [
        {"department": "销售1部", "rows": archive("A1")},
        {"file": "销售１部 .xlsx", "parameters": None, "rows": archive("B22")},
    ])  # fmt: skip
    code, done, _ = run_json(tmp_path / MONTH, tmp_path / "o.xlsx")
    assert code == 1
    assert {(m["department"], m["department_source"]) for m in done["manifest"]} == {
        ("销售1部", "parameters"),
        ("销售1部", "file_name"),
    }
    assert sorted(d["code"] for d in done["diagnostics"] if d["code"].startswith("D")) == ["D104", "D104"]


@pytest.mark.parametrize("name", ["汇总.xlsm", "汇总.xls", "汇总.txt", "汇总"])
def test_a_company_workbook_named_as_no_xlsx_is_refused(month: Path, tmp_path: Path, name: str) -> None:
    """-o 汇总.xlsm (or .xls) wrote an .xlsx package under that name: Excel refuses to open it."""
    code, out, err = run(
        str(month), "--month", MONTH, "-o", str(tmp_path / name), "--no-history", "--jobs", "0"
    )
    assert code == 2 and name in err and ".xlsx" in err and len(err.strip().splitlines()) == 1, err
    assert not out and list(tmp_path.iterdir()) == []


def test_an_empty_input_path_is_refused_not_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_department(tmp_path / "销售一部.xlsx", "销售一部")
    code, _, err = run("", "--month", MONTH, "--jobs", "0")
    assert code == 2 and "不能为空" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["销售一部.xlsx"]


def test_the_output_is_never_overwritten_without_force(month: Path, tmp_path: Path) -> None:
    target = tmp_path / "汇总.xlsx"
    target.write_bytes(b"someone's file")
    code, _, err = run(str(month), "--month", MONTH, "-o", str(target), "--jobs", "0")
    assert code == 2 and "--force" in err and str(target) in err
    assert target.read_bytes() == b"someone's file"
    assert not (tmp_path / "xlcrm-history.duckdb").exists()
    code, _, _ = run(str(month), "--month", MONTH, "-o", str(target), "--jobs", "0", "--force")
    assert code == 2 and zipfile.is_zipfile(target)


def test_exit_status_is_0_for_a_clean_month(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    write_case(
        folder / "销售一部.xlsx", {"客户档案": [{}], "信用评定": [{}]}, parameters={"部门": "销售一部"}
    )
    code, out, _ = run(str(folder), "--month", MONTH, "-o", str(tmp_path / "汇总.xlsx"), "--jobs", "0")
    assert code == 0, out
    assert "共 0 个问题" in out


def test_interrupted_run_writes_nothing(month: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for n in range(8):
        write_department(folder / f"部门{n}.xlsx", f"部门{n}")
    store = tmp_path / "h.duckdb"
    consolidate(Settings((month,), "2025-11", tmp_path / "11.xlsx", OPTIONS, history=store))
    before = _stored(store)
    xlcrm = Path(sys.executable).with_name("xlcrm")
    process = subprocess.Popen(
        [str(xlcrm), "consolidate", str(folder), "--month", MONTH, "-o", str(tmp_path / "12.xlsx"),
         "--jobs", "1", "--history", str(store), "--as-of", AS_OF.isoformat()],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stderr is not None
    first = process.stderr.readline()  # the first file is done: the run is under way
    assert first.startswith("[1/8]"), first
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "已中断" in err
    assert not (tmp_path / "12.xlsx").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert _stored(store) == before
    time.sleep(0.5)  # the killed workers are gone
    assert (
        "xlcrm"
        not in subprocess.run(
            ["ps", "-o", "args=", "--ppid", str(process.pid)], capture_output=True, text=True
        ).stdout
    )


@needs_soffice
def test_the_company_workbook(month: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    shutil.copytree(month, folder)
    evil = write_case(
        folder / "销售四部.xlsx",
        {
            "客户档案": [
                {
                    "客户名称": '=HYPERLINK("http://x","点我")',
                    "联系电话": "13912345678",
                    "电子邮箱": "wanglei@kangda.cn",
                }
            ]
        },
        parameters={"部门": "销售四部"},
    )
    target = tmp_path / "out" / "汇总.xlsx"
    done = consolidate(Settings((folder,), MONTH, target, OPTIONS, history=None))
    assert evil.is_file()
    book = load_workbook(target)
    assert book.sheetnames == [
        "总览", "清单", "部门汇总", "授信执行", "大客户分析", "变化", "趋势", "问题明细", "跨部门", "公司客户", "图表数据",
    ]  # fmt: skip
    customers = book["公司客户"]
    headers = [c.value for c in customers[1]]
    assert headers[:5] == ["部门", "来源文件", "工作表", "行", "客户编码"] and headers[-5:] == [
        "系统等级", "系统信用等级", "授信类型", "信用额度(元)", "当前占用额(元)",
    ]  # fmt: skip
    assert customers.max_row == 1 + done.company.tables["archive"].height == 1 + 39 + 1
    cells = next(r for r in customers.iter_rows(min_row=2) if r[0].value == "销售四部")
    last = {h: c.value for h, c in zip(headers, cells, strict=True)}
    assert last["客户名称"] == '=HYPERLINK("http://x","点我")' and cells[5].data_type == "s"
    assert last["联系电话"] == "139****5678" and last["电子邮箱"] == "w***@kangda.cn"  # POLICY §7
    with zipfile.ZipFile(target) as package:
        assert not any(
            b"<f>" in package.read(n) for n in package.namelist() if n.startswith("xl/worksheets/")
        )
    first = {h: c.value for h, c in zip(headers, customers[2], strict=True)}
    assert first["部门"] == "销售一部" and first["系统等级"] == "VIP客户" and first["系统信用等级"] == "A"
    amounts = [headers.index(h) for h in ("年业务量(万元)", "信用额度(元)", "当前占用额(元)")]
    assert all(customers[2][i].number_format == "#,##0.00" for i in amounts)  # thousands separators
    source = customers.column_dimensions["B"].width  # 来源文件: as wide as its paths, up to 70
    assert source >= min(70, len(str(folder / "销售一部.xlsx")) + 2), source
    findings = book["问题明细"]
    assert findings.max_row - 1 == len(done.company.findings)
    assert findings.column_dimensions["B"].width >= min(70, len(str(folder / "销售一部.xlsx")) + 2)  # 文件
    linked = [c for c in findings["D"][1:] if c.hyperlink is not None]
    assert linked and all(c.hyperlink.target.endswith(".xlsx") for c in linked)
    assert "#" in (linked[0].hyperlink.location or "") or "#" not in linked[0].hyperlink.target
    manifest = [[c.value for c in row] for row in book["清单"].iter_rows()]
    assert any(
        row[0] == "文件核对" and "找到 6 个文件 = 已检查 4 + 无法使用 1 + 已跳过 1" in row[1]
        for row in manifest
    )
    assert any(row[0] == "运行人" for row in manifest)
    cross = [[c.value for c in row] for row in book["跨部门"].iter_rows()]
    assert any(row[4] == "D101" for row in cross)
    converted = soffice("--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
                        "--outdir", str(tmp_path / "lo"), str(target))  # fmt: skip
    assert converted.returncode == 0, converted.stderr
    outputs = sorted((tmp_path / "lo").glob("*.csv"))
    assert len(outputs) == len(book.sheetnames), converted.stdout
    assert "139****5678" in next(p for p in outputs if p.name.endswith("公司客户.csv")).read_text(
        encoding="utf-8"
    )


def test_company_customers_continue_past_the_row_limit(month: Path, tmp_path: Path) -> None:
    done = consolidate(Settings((month,), MONTH, tmp_path / "a.xlsx", OPTIONS, history=None))
    target = tmp_path / "small.xlsx"
    workbook.write(done.company, target, done.run, row_limit=11, unmasked=True)
    book = load_workbook(target)
    parts = [name for name in book.sheetnames if name.startswith("公司客户")]
    assert parts == ["公司客户", "公司客户(2)", "公司客户(3)", "公司客户(4)"]  # 39 rows, 10 per sheet
    assert [book[name].max_row for name in parts] == [11, 11, 11, 10]
    codes = [row[4] for name in parts for row in book[name].iter_rows(min_row=2, values_only=True)]
    assert codes == done.company.tables["archive"]["customer_code"].to_list()
    phones = [row[14] for name in parts for row in book[name].iter_rows(min_row=2, values_only=True)]
    assert "13800138001" in phones  # --unmasked
    notes = [row[1] for row in book["清单"].iter_rows(values_only=True) if row[0] == "公司客户续表"]
    assert notes and "公司客户(2)、公司客户(3)、公司客户(4)" in notes[0]


def test_month_defaults_to_the_as_of_month_and_output_to_the_current_folder(
    month: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        cli, ["consolidate", str(month), "--jobs", "0", "--as-of", "2025-12-31", "-q"]
    )
    assert result.exit_code == 2
    assert Path("公司汇总_2025-12.xlsx").is_file() and Path("xlcrm-history.duckdb").is_file()
    assert history.months(Path("xlcrm-history.duckdb"))[0]["month"] == "2025-12"


def test_merge_tags_each_row_with_its_submission_even_when_schemas_differ() -> None:
    """The shipped frames of a form decode in one call and each row keeps its submission, department, file.

    Rows: 甲 (2 archive rows), 乙 (0 rows: adds nothing), 丙 (1 row). Then 丙's frame has a column
    the others lack, which the one-call decode refuses: decoded one by one, the same tags.
    """
    import io

    import polars as pl

    from xlcrm.batch.company import _merge
    from xlcrm.batch.cross import DEPT, FILE, SUB
    from xlcrm.batch.discover import CHECKED
    from xlcrm.batch.worker import Outcome, ShippedForm

    def shipped(frame: pl.DataFrame) -> ShippedForm:
        buffer = io.BytesIO()
        frame.write_parquet(buffer)
        return ShippedForm(buffer.getvalue(), [], [], frame.height)

    def outcomes(third: pl.DataFrame) -> list[Outcome]:
        frames = [
            pl.DataFrame({"customer_code": ["A1", "A2"]}),
            pl.DataFrame({"customer_code": []}, schema={"customer_code": pl.Utf8}),
            third,
        ]
        return [
            Outcome(position, f"{name}.xlsx", CHECKED, department=name, forms={"archive": shipped(frame)})
            for position, (name, frame) in enumerate(zip(("甲", "乙", "丙"), frames, strict=True))
        ]

    expected = [("A1", 0, "甲", "甲.xlsx"), ("A2", 0, "甲", "甲.xlsx"), ("C1", 2, "丙", "丙.xlsx")]
    for third in (
        pl.DataFrame({"customer_code": ["C1"]}),
        pl.DataFrame({"customer_code": ["C1"], "extra": [1]}),
    ):
        archive = _merge(outcomes(third))["archive"]
        assert archive.select("customer_code", SUB, DEPT, FILE).rows() == expected
        assert archive.height == 3 and "name" in archive.columns  # every declared column, typed
    assert _merge(outcomes(pl.DataFrame({"customer_code": ["C1"], "extra": [1]})))["archive"][
        "extra"
    ].to_list() == [None, None, 1]


def test_a_department_whose_names_are_not_utf8_is_consolidated_and_stored(tmp_path: Path) -> None:
    """A folder and a file named in GBK bytes (a zip from a Chinese Windows): read through their
    own bytes, shown and stored as their Chinese names, the department taken from the file."""
    folder = tmp_path / "in"
    raw = os.fsencode(folder) + b"/" + "四部".encode("gbk")
    try:
        os.makedirs(raw)
    except OSError:
        pytest.skip("this file system refuses names that are not UTF-8")
    write_department(
        Path(os.fsdecode(raw + b"/" + "销售四部.xlsx".encode("gbk"))), "销售四部", parameters=False
    )
    write_department(folder / "销售一部.xlsx", "销售一部")
    store = tmp_path / "h.duckdb"
    code, out, err = run(
        str(folder), "--month", MONTH, "-o", str(tmp_path / "汇总.xlsx"), "--history", str(store), "--jobs", "0",
        "--format", "json",
    )  # fmt: skip
    assert code in (0, 1), err
    manifest = {m["file"]: m for m in json.loads(out)["manifest"]}
    fourth = manifest[str(folder / "四部" / "销售四部.xlsx")]
    assert (fourth["status"], fourth["department"], fourth["rows"]["archive"]) == ("checked", "销售四部", 13)
    con = duckdb.connect(str(store), read_only=True)
    stored = con.execute("SELECT DISTINCT department, file FROM customers ORDER BY 1").fetchall()
    con.close()
    assert ("销售四部", str(folder / "四部" / "销售四部.xlsx")) in stored
    sheets = load_workbook(tmp_path / "汇总.xlsx", read_only=True)
    files = {row[1] for row in sheets["清单"].iter_rows(values_only=True)}
    assert str(folder / "四部" / "销售四部.xlsx") in files


def test_rows_of_the_forms_only_checked_are_accounted_for(month: Path, tmp_path: Path) -> None:
    """投诉记录 … and 豁免 are checked but make no company table: their rows read are still in
    each manifest entry, the summary, the terminal report and 清单, never left out silently."""
    from xlcrm.batch.worker import SHIPPED

    code, data, err = run_json(month, tmp_path / "汇总.xlsx")
    assert code == 2, err
    checked = [m for m in data["manifest"] if m["status"] == "checked"]
    others: dict[str, int] = {}
    for entry in checked:
        for key, rows in entry["rows"].items():
            if key not in SHIPPED:
                others[key] = others.get(key, 0) + rows
    assert others["complaints"] > 0 and others["waivers"] > 0
    assert data["summary"]["rows_checked_only"] == others
    assert set(data["summary"]["rows_read"]) == set(SHIPPED)
    code, out, err = run(
        str(month), "--month", MONTH, "-o", str(tmp_path / "文本.xlsx"), "--no-history", "--jobs", "0"
    )
    assert f"投诉记录：读入 {others['complaints']} 行（只检查，不进公司表）" in out
    sheet = load_workbook(tmp_path / "文本.xlsx", read_only=True)["清单"]
    facts = {row[0]: row[1] for row in sheet.iter_rows(max_col=2, values_only=True) if row[0]}
    assert f"投诉记录 {others['complaints']} 行" in facts["只检查的表单"]


def test_a_history_another_process_holds_is_one_line_saying_so(tmp_path: Path) -> None:
    """A consolidation still writing it (another process holds DuckDB's lock): `history` says
    to try again later, in one line, exit 2; the lock's own words are in it."""
    store = tmp_path / "h.duckdb"
    duckdb.connect(str(store)).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, sys, time; c = duckdb.connect({str(store)!r}); print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        result = CliRunner().invoke(cli, ["history", "--history", str(store)])
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(store) in lines[0]
    assert "lock" in lines[0] and "请稍后重试" in lines[0]


def test_cross_department_listings_are_joined_in_the_language_asked(month: Path, tmp_path: Path) -> None:
    """D101/D102 list each department with its value: 、 in Chinese, commas in English."""
    _, data, _ = run_json(month, tmp_path / "zh.xlsx")
    _, english, _ = run_json(month, tmp_path / "en.xlsx", "--lang", "en")
    for code in ("D101", "D102"):
        (zh, *_) = [d for d in data["diagnostics"] if d["code"] == code]
        (en, *_) = [d for d in english["diagnostics"] if d["code"] == code]
        listing = zh["values"]["grades" if code == "D101" else "parts"]
        assert isinstance(listing, list) and len(listing) >= 2
        assert "、".join(listing) in zh["message"]
        assert ", ".join(listing) in en["message"] and "、" not in en["message"]
