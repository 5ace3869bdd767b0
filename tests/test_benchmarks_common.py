"""benchmarks/_common.py: the environment defaults, the machine facts and the JSON report."""

import argparse
import json
import os

from benchmarks import _common


def test_set_environment_keeps_what_the_caller_set(monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.delenv("ZOO_TEST_FLAG", raising=False)
    _common.set_environment("tensorflow", cpu_only=False, ZOO_TEST_FLAG="1")
    assert os.environ["KERAS_BACKEND"] == "jax"
    assert "CUDA_VISIBLE_DEVICES" not in os.environ
    assert os.environ["ZOO_TEST_FLAG"] == "1"
    _common.set_environment()
    assert os.environ["CUDA_VISIBLE_DEVICES"] == ""


def test_report_run_prints_and_writes_the_report(tmp_path, capsys):
    path = tmp_path / "new" / "report.json"
    args = argparse.Namespace(json=str(path))
    printed = []
    report = _common.report_run(
        lambda a: {"machine": _common.machine_facts(0.5, peak=1.0), "name": "ф"},
        printed.append,
        args,
    )
    assert printed == [report]
    assert json.loads(path.read_text(encoding="utf-8")) == report
    assert report["machine"]["load_average_1min_at_start"] == 0.5
    assert report["machine"]["peak"] == 1.0 and report["machine"]["cpu_count"] == os.cpu_count()
    assert f"wrote {path}" in capsys.readouterr().out
    _common.write_json({"name": "ф"}, str(path), ensure_ascii=False, lead="\n")
    assert '"ф"' in path.read_text(encoding="utf-8")


def test_the_table_helpers_print_the_load_and_a_ruled_header(capsys):
    machine = {"load_average_1min_at_start": 0.5, "load_average_1min_at_end": 1.25, "cpu_count": 2}
    assert _common.load_line(machine) == "load (1 min) 0.50 -> 1.25 on 2 CPUs"
    _common.print_header("a  ", "bc")
    assert capsys.readouterr().out == "a  bc\n-----\n"
