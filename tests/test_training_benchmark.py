"""The training benchmark's options (BERT head, backend), FLOP count, compile times and
report, on a tiny config."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.test_case import REPO_ROOT, load_benchmark

SCRIPT = os.path.join(REPO_ROOT, "benchmarks", "training.py")

TINY = ["--num-layers", "1", "--hidden-dim", "16", "--num-heads", "2",
        "--intermediate-dim", "32", "--vocabulary-size", "64", "--sequence-length", "16",
        "--batch-size", "3", "--steps", "1", "--rounds", "2"]  # fmt: skip


@pytest.fixture(scope="module")
def training_benchmark():
    return load_benchmark("training")


@pytest.mark.parametrize("positions", ["-1", "17"])
def test_mlm_positions_out_of_range_is_refused(training_benchmark, positions, capsys):
    with pytest.raises(SystemExit):
        training_benchmark.parse_args(TINY + ["--mlm-positions", positions])
    assert "--mlm-positions must be between 0 and --sequence-length (16)" in capsys.readouterr().err


def test_gathered_positions_are_distinct_sorted_and_labelled(training_benchmark):
    args = training_benchmark.parse_args(TINY + ["--mlm-positions", "5"])
    features, labels = training_benchmark.batch(args, "bert")
    positions = features["mask_positions"]
    assert positions.shape == labels.shape == (3, 5)
    for row in positions:
        assert list(row) == sorted(set(row)) and row.min() >= 0 and row.max() < 16
    assert not all((row == positions[0]).all() for row in positions)  # drawn per sequence
    every = training_benchmark.parse_args(TINY + ["--mlm-positions", "0"])
    features, labels = training_benchmark.batch(every, "bert")
    assert "mask_positions" not in features and labels.shape == (3, 16)


def test_default_scores_fifteen_percent_of_the_positions(training_benchmark):
    assert training_benchmark.parse_args(TINY).mlm_positions == 3  # ceil(0.15 * 16)
    assert training_benchmark.parse_args([]).mlm_positions == 20  # of 128, as BERT masks


def test_flops_count_the_head_at_the_scored_positions_only(training_benchmark):
    every = training_benchmark.parse_args(TINY + ["--mlm-positions", "0"])
    gathered = training_benchmark.parse_args(TINY + ["--mlm-positions", "4"])
    head = 6 * 16 * 64  # forward + backward of the (16 -> 64) projection, per scored token
    bert_every = training_benchmark.flops_per_token(every, "bert")
    assert bert_every - training_benchmark.flops_per_token(gathered, "bert") == head * 12 / 16
    # GPT's tied logits score every position whatever the BERT option says.
    assert training_benchmark.flops_per_token(gathered, "gpt") == bert_every


def test_report_pairs_the_rounds(training_benchmark, monkeypatch):
    monkeypatch.setattr(training_benchmark, "measure_peak_flops", lambda: 1e11)
    args = training_benchmark.parse_args(TINY + ["--models", "bert", "--mlm-positions", "3"])
    model, (features, _) = training_benchmark.compiled("bert", "zoo", args)
    assert tuple(model.predict(features, verbose=0).shape) == (3, 3, 64)

    (row,) = training_benchmark.run(args)["results"]
    zoo, hub = (row[side]["seconds_per_run"] for side in ("zoo", "keras_hub"))
    assert len(zoo) == len(hub) == 2
    np.testing.assert_allclose(row["paired_ratios"], np.array(hub) / np.array(zoo))
    assert row["median_paired_ratio"] == pytest.approx(np.median(row["paired_ratios"]))
    assert row["flops_per_token"] == training_benchmark.flops_per_token(args, "bert")


def test_the_sides_are_compared_per_round_and_printed_with_their_ratios(training_benchmark, capsys):
    row = {
        "zoo": {"tokens_per_second": 300.0, "best_tokens_per_second": 400.0},
        "keras_hub": {"tokens_per_second": 200.0, "best_tokens_per_second": 100.0},
    }
    training_benchmark.add_ratios(row, {"zoo": [1.0, 2.0, 4.0], "keras_hub": [3.0, 2.0, 2.0]})
    assert row["ratio"] == 1.5 and row["best_ratio"] == 4.0
    assert row["paired_ratios"] == [3.0, 1.0, 0.5] and row["median_paired_ratio"] == 1.0
    training_benchmark.print_sides([row], "side ", lambda result, side: f"{side[:4]:<5}")
    assert capsys.readouterr().out.splitlines() == [
        "side  zoo/hub   best  paired",
        "-" * 28,
        "zoo     1.50x  4.00x   1.00x",
        "kera " + " " * 23,  # no ratios on keras-hub's line
    ]


def test_report_has_the_compile_time_per_input_shape(training_benchmark, monkeypatch, capsys):
    monkeypatch.setattr(training_benchmark, "measure_peak_flops", lambda: 1e11)
    args = training_benchmark.parse_args(TINY + ["--models", "gpt"])
    report = training_benchmark.run(args)
    (row,) = report["results"]
    assert report["keras_backend"] == "tensorflow"
    assert "first train_on_batch" in report["compile_time_measure"]
    for side in ("zoo", "keras_hub"):
        compile_time = row[side]["compile"]
        assert compile_time["input_shape"] == [3, 16]  # (batch, sequence)
        steady = np.median(row[side]["seconds_per_run"]) / args.steps
        assert compile_time["steady_step_s"] == pytest.approx(steady)
        assert compile_time["compile_s"] == pytest.approx(
            compile_time["first_step_s"] - compile_time["steady_step_s"]
        )
        assert compile_time["first_step_s"] > compile_time["steady_step_s"]  # XLA compiled
        assert compile_time["jax_stages_s"] == {}  # JAX's own stage times only under JAX
        assert row[side]["minor_page_faults_per_step"] >= 0
    assert report["glibc_malloc"] is None  # set only by --jax-malloc keep, under JAX
    training_benchmark.print_table(report)
    table = capsys.readouterr().out
    assert "compile s" in table and "gpt (3, 16)" in table
    zoo_line = next(line for line in table.splitlines() if line.startswith("gpt    zoo"))
    assert f"{row['zoo']['compile']['compile_s']:.1f}" in zoo_line.split()


def test_jax_compile_stages_add_up_the_known_events(training_benchmark):
    stages = training_benchmark._JaxCompileStages()
    stages.seconds = {}
    for event, seconds in [
        ("/jax/core/compile/backend_compile_duration", 2.0),
        ("/jax/core/compile/backend_compile_duration", 0.5),
        ("/jax/core/compile/jaxpr_trace_duration", 1.0),
        ("/jax/compilation_cache/cache_retrieval_time_sec", 9.0),  # not a compile stage
    ]:
        stages._record(event, seconds, fun_name="train_step")
    assert stages.seconds == {"xla_compile_s": 2.5, "trace_s": 1.0}


@pytest.mark.parametrize(
    "flag, variable, expected",
    [(None, None, "tensorflow"), ("jax", None, "jax"), (None, "jax", "jax"),
     ("jax", "jax", "jax"), ("tensorflow", "", "tensorflow")],
)  # fmt: skip
def test_backend_comes_from_the_flag_or_the_variable(training_benchmark, flag, variable, expected):
    environ = {} if variable is None else {"KERAS_BACKEND": variable}
    assert training_benchmark.requested_backend(flag, environ) == expected


def test_backend_flag_disagreeing_with_the_variable_is_refused(
    training_benchmark, monkeypatch, capsys
):
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")
    with pytest.raises(SystemExit):
        training_benchmark.parse_args(TINY + ["--backend", "jax"])
    assert "--backend jax disagrees with KERAS_BACKEND=tensorflow" in capsys.readouterr().err
    with pytest.raises(ValueError, match="KERAS_BACKEND=torch is not one of tensorflow, jax"):
        training_benchmark.requested_backend(None, {"KERAS_BACKEND": "torch"})
    # Run as a script, the check comes before Keras is imported.
    env = {**os.environ, "KERAS_BACKEND": "tensorflow"}
    done = subprocess.run(
        [sys.executable, SCRIPT, "--backend", "jax"], env=env, capture_output=True, text=True
    )
    assert done.returncode != 0
    assert "--backend jax disagrees with KERAS_BACKEND=tensorflow" in done.stderr
    assert "Traceback" not in done.stderr


def test_page_fault_count_is_of_this_process(training_benchmark):
    before = training_benchmark._minor_faults()
    block = bytearray(64 << 20)  # fresh pages: faulted in when written
    block[::4096] = b"x" * len(block[::4096])
    assert training_benchmark._minor_faults() - before >= 1000


def test_main_reruns_the_script_under_the_backend_asked_for(training_benchmark, monkeypatch):
    monkeypatch.delenv("KERAS_BACKEND")
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda command, env, check: calls.append((command, env)))
    monkeypatch.setattr(training_benchmark, "run", lambda args: pytest.fail("ran in-process"))
    training_benchmark.main(TINY + ["--backend", "jax"])  # this process imported Keras for TF
    ((command, env),) = calls
    assert command[1:] == [SCRIPT] + TINY + ["--backend", "jax"]
    assert env["KERAS_BACKEND"] == "jax"


@pytest.mark.slow
def test_backend_flag_runs_both_sides_under_jax(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "KERAS_BACKEND"}
    path = tmp_path / "report.json"
    command = [sys.executable, SCRIPT, *TINY, "--models", "gpt", "--rounds", "1"]
    command += ["--backend", "jax", "--jax-malloc", "keep", "--json", str(path)]
    subprocess.run(command, env=env, check=True)
    report = json.loads(path.read_text())
    assert report["keras_backend"] == "jax" and report["config"]["backend"] == "jax"
    assert report["glibc_malloc"] == {
        "M_ARENA_MAX": 1,
        "M_MMAP_MAX": 0,
        "M_TRIM_THRESHOLD": 2**31 - 1,
    }
    (row,) = report["results"]
    for side in ("zoo", "keras_hub"):
        stages = row[side]["compile"]["jax_stages_s"]
        assert set(stages) == {"trace_s", "lower_s", "xla_compile_s"}
        assert 0 < stages["xla_compile_s"] < row[side]["compile"]["first_step_s"]
