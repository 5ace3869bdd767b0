"""The training benchmark's BERT head options, FLOP count and report, on a tiny config."""

import numpy as np
import pytest

from tests.test_case import load_benchmark

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
