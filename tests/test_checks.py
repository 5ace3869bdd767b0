"""Tests for the shared argument checks in `zoo._checks`."""

import math
import re

import numpy as np
import pytest

from zoo._checks import check_float, check_int, check_rate, is_int, is_number


def test_is_int_and_is_number_refuse_bools():
    assert is_int(3) and is_int(np.int32(3)) and is_int(np.int64(-1))
    assert not is_int(True) and not is_int(np.bool_(True))
    assert not is_int(3.0) and not is_int("3") and not is_int(None)
    assert is_number(3) and is_number(0.5) and is_number(np.float32(0.5))
    assert not is_number(False) and not is_number("0.5") and not is_number(None)


def test_check_int_returns_a_python_int():
    assert check_int(3, "num_heads", "Layer") == 3
    value = check_int(np.int64(4), "num_heads", "Layer")
    assert value == 4 and type(value) is int
    assert check_int(0, "seed", "f()", minimum=0) == 0
    assert check_int(2, "max_length", "f()", minimum=2) == 2


@pytest.mark.parametrize("value", [True, False, 2.0, "2", None, [2]])
def test_check_int_refuses_other_types(value):
    message = f"`num_heads` of Layer must be a positive int. Received: num_heads={value!r}."
    with pytest.raises(ValueError, match=re.escape(message)):
        check_int(value, "num_heads", "Layer")


@pytest.mark.parametrize(
    "value, minimum, expected",
    [
        (0, 1, "a positive int"),
        (-3, 1, "a positive int"),
        (-1, 0, "a non-negative int"),
        (1, 2, "an int >= 2"),
    ],
)
def test_check_int_bounds(value, minimum, expected):
    with pytest.raises(ValueError, match=rf"must be {expected}\. Received: width={value}\."):
        check_int(value, "width", "Owner", minimum=minimum)


def test_check_int_message_names_owner_value_and_fix():
    with pytest.raises(ValueError) as error:
        check_int(0, "window", "word2vec_dataset()")
    assert str(error.value) == (
        "`window` of word2vec_dataset() must be a positive int. Received: window=0. "
        "Pass e.g. window=1."
    )
    with pytest.raises(ValueError) as error:
        check_int("8", "k", "TopKSampler", hint="k=1 is greedy.")
    assert str(error.value) == (
        "`k` of TopKSampler must be a positive int. Received: k='8'. k=1 is greedy."
    )


def test_check_float():
    assert check_float(0, "sample", "f()") == 0.0
    assert type(check_float(np.float32(0.5), "sample", "f()")) is float
    assert check_float(math.inf, "sample", "f()") == math.inf
    assert check_float(2, "max_wavelength", "Layer", minimum=1, strict=True) == 2.0
    with pytest.raises(
        ValueError, match=r"`learning_rate` of Word2Vec\.train\(\) must be a number > 0"
    ):
        check_float(0.0, "learning_rate", "Word2Vec.train()", strict=True)
    with pytest.raises(ValueError, match=r"must be a number >= 0.0\. Received: sample=-0\.1\."):
        check_float(-0.1, "sample", "f()")
    with pytest.raises(ValueError, match=r"> 1\. Received: max_wavelength=1\. Use 10000\.$"):
        check_float(1, "max_wavelength", "Layer", minimum=1, strict=True, hint="Use 10000.")


@pytest.mark.parametrize("value", [True, "0.1", None, math.nan])
def test_check_float_refuses_bools_strings_and_nan(value):
    with pytest.raises(ValueError, match=r"`sample` of Owner must be a number >= 0\.0"):
        check_float(value, "sample", "Owner")


def test_check_rate():
    assert check_rate(0, "dropout", "Layer") == 0.0
    assert check_rate(np.float32(0.25), "dropout", "Layer") == 0.25
    assert check_rate(1, "selection_rate", "mask_tokens()", include_one=True) == 1.0
    with pytest.raises(ValueError) as error:
        check_rate(1.0, "dropout", "MultiHeadAttention")
    assert str(error.value) == (
        "`dropout` of MultiHeadAttention is a probability and must be in [0, 1). "
        "Received: dropout=1.0."
    )
    with pytest.raises(ValueError, match=r"must be in \[0, 1\]\. Received: rate=1\.5\."):
        check_rate(1.5, "rate", "mask_tokens()", include_one=True)


@pytest.mark.parametrize("value", [-0.1, 1.0, True, False, "0.1", None, math.nan])
def test_check_rate_refuses(value):
    with pytest.raises(ValueError, match=r"`rate` of Dropout is a probability.*\[0, 1\)"):
        check_rate(value, "rate", "Dropout")
