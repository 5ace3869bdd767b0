"""Attention masks, in one place (DESIGN.md, convention 4).

Every mask here is boolean and shaped `(batch, query, key)`: `True` means "this query
position may attend to this key position". Attention layers add the heads axis
themselves, so a mask broadcasts as `(batch, 1, query, key)` against the logits.

- `merge_padding_and_attention_mask` turns a `(batch, key)` padding mask (`True` or 1
  for real tokens, `False` or 0 for padding) and/or a `(batch, query, key)` attention
  mask into one `(batch, query, key)` mask.
- `compute_causal_mask` is the decoder's "no information from the future" mask, with
  an offset for decoding with a key/value cache.

Both use `keras.ops` only, so they run on every backend and inside XLA.
"""

from keras import ops

__all__ = ["compute_causal_mask", "merge_padding_and_attention_mask"]


def _check_rank(mask, rank, name, expected):
    if mask is not None and len(mask.shape) != rank:
        raise ValueError(
            f"`{name}` must have rank {rank}, shaped {expected}. "
            f"Received: {name}.shape={tuple(mask.shape)}. "
            "Pass one mask row per example (add or remove a batch axis)."
        )


def merge_padding_and_attention_mask(inputs_or_query_length, padding_mask, attention_mask):
    """Merge a key padding mask and an attention mask into one boolean mask.

    Args:
        inputs_or_query_length: the query tensor, shaped `(batch, query, ...)`, or the
            query length as an int or scalar tensor.
        padding_mask: `None` or `(batch, key)`; truthy for real tokens, falsy for
            padding. Padded keys are hidden from every query.
        attention_mask: `None` or `(batch, query, key)`; truthy where a query may attend
            to a key.

    Returns:
        `None` when both masks are `None`, otherwise a boolean `(batch, query, key)`
        tensor that is the logical AND of the two.

    Example:

    >>> import numpy as np
    >>> padding_mask = np.array([[1, 1, 0]])
    >>> tuple(merge_padding_and_attention_mask(2, padding_mask, None).shape)
    (1, 2, 3)
    """
    _check_rank(padding_mask, 2, "padding_mask", "(batch, key)")
    _check_rank(attention_mask, 3, "attention_mask", "(batch, query, key)")
    if padding_mask is None and attention_mask is None:
        return None
    if attention_mask is not None:
        attention_mask = ops.cast(attention_mask, "bool")
    if padding_mask is None:
        return attention_mask

    if (
        isinstance(inputs_or_query_length, int)
        or len(getattr(inputs_or_query_length, "shape", ())) == 0
    ):
        query_length = inputs_or_query_length
    else:
        query_length = ops.shape(inputs_or_query_length)[1]
    padding_mask = ops.cast(padding_mask, "bool")
    batch_size, key_length = ops.shape(padding_mask)
    mask = ops.broadcast_to(
        ops.expand_dims(padding_mask, axis=1),  # (batch, 1, key)
        (batch_size, query_length, key_length),
    )  # (batch, query, key)
    if attention_mask is not None:
        mask = ops.logical_and(mask, attention_mask)
    return mask


def compute_causal_mask(batch_size, query_length, key_length, cache_index=None):
    """The causal mask: query position `i` sees key positions `j <= i`.

    With a key/value cache the queries are the newest tokens of a longer sequence:
    query `i` sits at absolute position `cache_index + i` and sees keys
    `j <= cache_index + i`. The key axis is then the whole (fixed-length) cache, so
    slots not yet written are hidden as well.

    Args:
        batch_size: int or scalar tensor.
        query_length: int or scalar tensor.
        key_length: int or scalar tensor.
        cache_index: `None` (no cache: queries and keys start together) or the
            int / scalar tensor position of the first query in the cache.

    Returns:
        A boolean `(batch, query, key)` tensor.

    Example:

    >>> from keras import ops
    >>> mask = compute_causal_mask(1, 1, 4, cache_index=2)
    >>> ops.convert_to_numpy(mask).astype(int).tolist()
    [[[1, 1, 1, 0]]]
    """
    query_positions = ops.arange(query_length, dtype="int32")
    if cache_index is not None:
        query_positions = query_positions + ops.cast(cache_index, "int32")
    key_positions = ops.arange(key_length, dtype="int32")
    mask = ops.expand_dims(query_positions, 1) >= ops.expand_dims(key_positions, 0)
    # (query, key) -> (batch, query, key)
    return ops.broadcast_to(ops.expand_dims(mask, 0), (batch_size, query_length, key_length))
