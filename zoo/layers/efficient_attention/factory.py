"""The attention-type registry: `ATTENTION_TYPES`, `check_attention_options`, `make_attention`."""

import inspect

from zoo.layers.attention import MultiHeadAttention
from zoo.layers.efficient_attention.linformer import LinformerAttention
from zoo.layers.efficient_attention.longformer import LongformerAttention
from zoo.layers.efficient_attention.performer import PerformerAttention
from zoo.layers.efficient_attention.reformer import ReformerAttention
from zoo.layers.efficient_attention.sparse import SparseAttention

ATTENTION_TYPES = {
    "full": MultiHeadAttention,
    "sparse": SparseAttention,
    "longformer": LongformerAttention,
    "linformer": LinformerAttention,
    "performer": PerformerAttention,
    "reformer": ReformerAttention,
}

# Arguments every attention takes from its block (not per-type options).
_BLOCK_SET = ("num_heads", "key_dim", "dropout", "kernel_initializer", "dtype", "name")


def _own_arguments(name):
    cls = ATTENTION_TYPES[name]
    if cls is MultiHeadAttention:
        return ()
    own = inspect.signature(cls.__init__).parameters
    return tuple(p for p in own if p not in ("self", "kwargs", *_BLOCK_SET))


def check_attention_options(attention, attention_options, owner="layer"):
    """Validate an `attention=` name and its `attention_options` dict; return the dict.

    Raises a `ValueError` for an unknown name, a non-dict, or an option the attention
    type does not take (naming the ones it does).
    """
    if attention not in ATTENTION_TYPES:
        raise ValueError(
            f"Unknown attention for {owner}: {attention!r}. Expected one of "
            f"{list(ATTENTION_TYPES)} or a Keras layer instance."
        )
    options = {} if attention_options is None else attention_options
    if not isinstance(options, dict):
        raise ValueError(
            f"`attention_options` of {owner} must be a dict of the arguments of the "
            f"{attention!r} attention. Received: {attention_options!r}."
        )
    allowed = _own_arguments(attention)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ValueError(
            f"Unknown attention_options for attention={attention!r} of {owner}: {unknown}. "
            f"Expected a subset of {list(allowed)}."
        )
    return dict(options)


def make_attention(attention, num_heads, key_dim, attention_options=None, **kwargs):
    """The attention layer named `attention` (a key of `ATTENTION_TYPES`).

    Args:
        attention: `"full"`, `"sparse"`, `"longformer"`, `"linformer"`, `"performer"` or
            `"reformer"`.
        num_heads: number of heads.
        key_dim: size of each head.
        attention_options: dict of the type's own arguments (e.g. `{"attention_window":
            64}` for Longformer).
        **kwargs: common arguments (`dropout`, `kernel_initializer`, `dtype`, `name`).

    Example:

    >>> layer = make_attention("performer", 2, 8, {"num_features": 16, "seed": 0})
    >>> type(layer).__name__
    'PerformerAttention'
    """
    options = check_attention_options(attention, attention_options)
    return ATTENTION_TYPES[attention](num_heads, key_dim, **options, **kwargs)
