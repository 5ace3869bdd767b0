"""Argument checks shared by the layers, models, data pipelines and exporters.

One version of each check, all with the same argument order `(value, name, owner, ...)`:

- `check_int`: an int (a Python or NumPy integer, never a bool) `>= minimum`;
- `check_float`: a real number (never a bool, never NaN) `>= minimum` or `> minimum`;
- `check_rate`: a probability in `[0, 1)` (or `[0, 1]` with `include_one=True`);
- `check_preset_name`: the `preset` of a `from_preset` (a directory, a name, an "hf://"
  id) as a non-empty string.

`owner` names what received the argument: a class (`"MultiHeadAttention"`, usually
`type(self).__name__`) or a function (`"generate()"`). Every check raises `ValueError`
naming the argument, its owner, what was expected and the value received, for example
"`num_heads` of MultiHeadAttention must be a positive int. Received: num_heads=0.
Pass e.g. num_heads=1.", and returns the value as a plain Python `int` / `float`.
"""

import math
import os

import numpy as np

__all__ = ["check_float", "check_int", "check_preset_name", "check_rate", "is_int", "is_number"]


def is_int(value):
    """Whether `value` is a Python or NumPy integer (`bool` is not an int here)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def is_number(value):
    """Whether `value` is a Python or NumPy integer or float (`bool` is not a number here)."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _sentence(hint):
    return f" {hint.strip()}" if hint else ""


def check_int(value, name, owner, minimum=1, hint=None):
    """Return `value` as an `int` after checking it is an int `>= minimum`.

    Args:
        value: the argument received.
        name: the argument's name (`"num_heads"`).
        owner: the class or function that received it (`"MultiHeadAttention"`).
        minimum: the smallest value allowed (1: a positive int, 0: a non-negative int).
        hint: a sentence appended to the message saying how to fix it; by default
            `"Pass e.g. {name}={max(minimum, 1)}."`.

    Raises:
        ValueError: `value` is not an int (a bool, a float, None, ...) or is below
            `minimum`.
    """
    if not is_int(value) or value < minimum:
        if minimum == 1:
            expected = "a positive int"
        elif minimum == 0:
            expected = "a non-negative int"
        else:
            expected = f"an int >= {minimum}"
        if hint is None:
            hint = f"Pass e.g. {name}={max(minimum, 1)}."
        raise ValueError(
            f"`{name}` of {owner} must be {expected}. Received: {name}={value!r}.{_sentence(hint)}"
        )
    return int(value)


def check_float(value, name, owner, minimum=0.0, strict=False, hint=None):
    """Return `value` as a `float` after checking it is a number `>= minimum`.

    Args:
        value: the argument received (an int or a float; not a bool, not NaN).
        name: the argument's name (`"learning_rate"`).
        owner: the class or function that received it.
        minimum: the bound.
        strict: `True` to require `value > minimum` instead of `value >= minimum`.
        hint: an optional sentence appended to the message saying how to fix it.

    Raises:
        ValueError: `value` is not a number, is NaN, or is below (or, with `strict`,
            at) `minimum`.
    """
    ok = is_number(value) and not math.isnan(value)
    if ok:
        ok = value > minimum if strict else value >= minimum
    if not ok:
        relation = ">" if strict else ">="
        raise ValueError(
            f"`{name}` of {owner} must be a number {relation} {minimum}. "
            f"Received: {name}={value!r}.{_sentence(hint)}"
        )
    return float(value)


def check_rate(value, name, owner, include_one=False):
    """Return `value` as a `float` after checking it is a probability in `[0, 1)`.

    Args:
        value: the argument received (an int or a float; not a bool).
        name: the argument's name (`"dropout"`).
        owner: the class or function that received it.
        include_one: `True` to allow 1 as well (`[0, 1]`), for rates where "always"
            makes sense (a masking rate); dropout rates stay below 1.

    Raises:
        ValueError: `value` is not a number or lies outside the interval.
    """
    ok = is_number(value) and value >= 0
    if ok:
        ok = value <= 1 if include_one else value < 1
    if not ok:
        interval = "[0, 1]" if include_one else "[0, 1)"
        raise ValueError(
            f"`{name}` of {owner} is a probability and must be in {interval}. "
            f"Received: {name}={value!r}."
        )
    return float(value)


def check_preset_name(preset, owner, expected):
    """Return `preset` (a path-like object as its string) after checking it is a
    non-empty string; `expected` says what may be given, for the message."""
    if isinstance(preset, os.PathLike):
        preset = os.fspath(preset)
    if not isinstance(preset, str) or not preset:
        raise ValueError(f"{owner} received preset={preset!r}. Expected {expected}.")
    return preset
