"""The long-context benchmark's data and argument checks (its training runs are benchmarks)."""

import json

import numpy as np
import pytest

from tests.test_case import load_benchmark


@pytest.fixture(scope="module")
def long_context():
    return load_benchmark("long_context")


def test_every_retrieval_sequence_has_one_marked_token_before_the_query(long_context):
    noise_types, values = 3, 5
    tokens, labels = long_context.retrieval_batch(
        np.random.default_rng(0), 400, 64, values, noise_types
    )
    assert tokens.shape == (400, 64) and labels.shape == (400,)
    assert (tokens[:, -1] == long_context.QUERY_ID).all()
    marked = tokens >= 3 + noise_types
    assert (marked.sum(axis=1) == 1).all()
    assert not marked[:, -1].any()
    assert (tokens[marked] - 3 - noise_types == labels).all()
    positions = np.argmax(marked, axis=1)
    assert positions.min() == 0 and positions.max() == 62  # anywhere before the query
    assert set(labels.tolist()) == set(range(values))
    body = tokens[:, :-1][~marked[:, :-1]]
    assert body.min() >= 3 and body.max() < 3 + noise_types


def test_the_language_model_part_needs_existing_files(long_context, tmp_path, capsys):
    with pytest.raises(SystemExit):
        long_context.parse_args(["--parts", "lm"])
    assert "needs --data" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        long_context.parse_args(["--parts", "lm", "--data", str(tmp_path / "missing.txt")])
    assert "no such file" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        long_context.parse_args(["--parts", "retrieval", "--retrieval-length", "1"])
    assert "--retrieval-length must be at least 2" in capsys.readouterr().err


def test_a_held_out_part_shorter_than_one_window_is_refused(long_context, tmp_path):
    text = tmp_path / "short.txt"
    text.write_text("\n".join(f"line {i} of a short text" for i in range(200)), encoding="utf-8")
    args = long_context.parse_args(
        ["--parts", "lm", "--data", str(text), "--lm-length", "4096", "--lm-vocabulary", "300"]
    )
    with pytest.raises(SystemExit, match="fewer than --lm-length"):
        long_context.lm_arrays(args, str(tmp_path))


def test_curriculum_lengths_must_be_shorter_than_the_task(long_context, capsys):
    with pytest.raises(SystemExit):
        long_context.parse_args(["--parts", "retrieval", "--retrieval-curriculum", "256", "4096"])
    assert "--retrieval-curriculum 4096: each length" in capsys.readouterr().err
    args = long_context.parse_args(["--parts", "retrieval", "--retrieval-curriculum"])
    assert args.retrieval_curriculum == []


@pytest.mark.slow  # four XLA compiles of a GPT: 45 s on 2 busy cores
def test_the_curriculum_moves_on_once_a_length_is_learned(long_context, capsys):
    # Any loss counts as learned here (--advance-loss 100): the short stage ends after its
    # window of 3 steps and the task's length takes the rest of the 8 steps.
    args = long_context.parse_args(
        ["--worker", "retrieval", "--variant", "full", "--retrieval-length", "64",
         "--retrieval-curriculum", "32", "--advance-loss", "100", "--advance-window", "3",
         "--retrieval-max-steps", "8", "--retrieval-time-budget", "600", "--values", "2"]
    )  # fmt: skip
    long_context.retrieval_worker(args)
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert [stage["length"] for stage in result["stages"]] == [32, 64]
    assert [stage["steps"] for stage in result["stages"]] == [3, 5]
    assert result["steps"] == 8 and result["reached_length"] == 64
    assert 0 <= result["accuracy"] <= 1 and result["chance"] == 0.5
