"""The attention-scaling benchmark refuses lengths and repeats it cannot time."""

import pytest

from tests.test_case import load_benchmark


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--lengths", "512", "0"], "--lengths 0: expected positive integers"),
        (["--repeats", "0"], "--repeats 0: expected positive integers"),
    ],
)
def test_bad_sizes_are_refused_in_one_line(argv, message, capsys):
    scaling = load_benchmark("attention_scaling")
    with pytest.raises(SystemExit) as stop:
        scaling.parse_args(argv)
    assert stop.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith(message)


def test_gpt_timing_is_causal_and_quick_keeps_the_lengths_small():
    args = load_benchmark("attention_scaling").parse_args(["--model", "gpt", "--quick"])
    assert args.causal and args.lengths == [512, 2048, 4096] and args.repeats == 2
