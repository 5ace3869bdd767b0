"""Longformer attention (Beltagy et al., 2020): a sliding window plus global tokens."""

import keras
from keras import ops

from zoo._checks import check_int
from zoo.layers.attention import flat_projection
from zoo.layers.efficient_attention.base import (
    _cut_blocks,
    _EfficientAttention,
    _hide,
    _layer_doc,
    _neighbour_blocks,
)


@keras.saving.register_keras_serializable(package="zoo")
class LongformerAttention(_EfficientAttention):
    __doc__ = _layer_doc(
        """Longformer attention: a sliding window plus global tokens, chunked to O(n·w).

    Every query attends to the keys within `attention_window` positions on either side
    (only earlier ones with `use_causal_mask=True`). The first `num_global_tokens`
    positions (e.g. `[CLS]`) are global: every query attends to them, and they attend
    to every key. The window is computed on chunks of `w` queries against their own and
    neighbouring chunks of keys, so memory is O(n·w) (plus O(n·g) for g global tokens)
    instead of O(n²). With `attention_window >= n` the layer equals full attention.

    Global attention uses the same Q/K/V projections as the window (the paper adds a
    second set for it; here the layer stays a drop-in with the weights of
    `MultiHeadAttention`). Cached decoding (`cache=`, causal) attends to the same keys as
    the full pass from a cache of the global tokens and a ring of the last
    `attention_window` positions (`init_cache`), whatever the context length.

    Reference: Beltagy et al., "Longformer: The Long-Document Transformer", 2020,
    https://arxiv.org/abs/2004.05150 (section 3.1).

    Args:
""",
        """        attention_window: one-sided window w: query i sees keys |i - j| <= w.
        num_global_tokens: number of leading global positions (0: none).
""",
        """    >>> layer = LongformerAttention(num_heads=2, key_dim=8, attention_window=4,
    ...                             num_global_tokens=1)
    >>> x = np.random.rand(2, 32, 16).astype("float32")
    >>> tuple(layer(x, padding_mask=np.ones((2, 32), bool)).shape)
    (2, 32, 16)
    """,
    )

    _config_arguments = ("attention_window", "num_global_tokens")

    def __init__(self, num_heads, key_dim, attention_window=128, num_global_tokens=1, **kwargs):
        super().__init__(num_heads, key_dim, **kwargs)
        check_int(attention_window, "attention_window", "LongformerAttention")
        if (
            isinstance(num_global_tokens, bool)
            or not isinstance(num_global_tokens, int)
            or num_global_tokens < 0
        ):
            raise ValueError(
                "`num_global_tokens` of LongformerAttention must be an int >= 0. "
                f"Received: num_global_tokens={num_global_tokens!r}."
            )
        self.attention_window = attention_window
        self.num_global_tokens = num_global_tokens

    def _pattern_mask(self, query_positions, key_positions):
        i = ops.expand_dims(query_positions, 1)
        j = ops.expand_dims(key_positions, 0)
        window = ops.abs(i - j) <= self.attention_window
        is_global = ops.logical_or(j < self.num_global_tokens, i < self.num_global_tokens)
        return ops.logical_or(window, is_global)

    # --- Cached decoding: a ring of the last `attention_window` keys and values ---

    def init_cache(self, batch_size, max_length):
        """Zeros of the decoding cache `(batch, 2, g + r, heads, key_dim)` (compute dtype).

        Keys (index 0) and values (1) of the `g = num_global_tokens` global positions,
        then a ring of `r = min(attention_window, max_length)` slots where position `p`
        lives in slot `p % r`: all a causal query needs, so the cache does not grow with
        `max_length`. A full-length key/value cache `(batch, 2, max_length, heads,
        key_dim)` is read the same way (a ring of `max_length - g` slots).
        """
        if self._value_dim != self.key_dim:
            raise ValueError(
                "LongformerAttention decodes with a key/value ring, which needs value_dim == "
                f"key_dim. Received: key_dim={self.key_dim}, value_dim={self._value_dim}."
            )
        slots = self.num_global_tokens + min(self.attention_window, max_length)
        shape = (batch_size, 2, slots, self.num_heads, self.key_dim)
        return ops.zeros(shape, dtype=self.compute_dtype)

    def _call_with_cache(
        self, query, padding_mask, attention_mask, use_causal_mask, cache, cache_update_index
    ):
        """Causal attention of `n` new tokens at `cache_update_index` over the ring.

        `padding_mask` `(batch, max_length)` over positions: falsy positions are neither
        attended nor written; they must come after a row's real ones (right padding, as
        the decoding loop's prefill passes it), so the ring keeps the last real ones.
        """
        num_global = self.num_global_tokens
        if cache_update_index is None:
            raise ValueError(
                "LongformerAttention decodes with a key/value ring: pass "
                "`cache_update_index` with `cache`. Received cache_update_index=None."
            )
        if attention_mask is not None:
            raise ValueError(
                "LongformerAttention does not take an `attention_mask` while decoding (its "
                "cache holds the last attention_window positions only). Received an "
                f"attention_mask of shape {tuple(attention_mask.shape)}; pass `padding_mask`."
            )
        if len(cache.shape) != 5 or cache.shape[1] != 2 or cache.shape[2] <= num_global:
            raise ValueError(
                "`cache` of LongformerAttention must be shaped (batch, 2, num_global_tokens "
                "+ slots, num_heads, key_dim), as `init_cache` makes it. Received: "
                f"cache.shape={tuple(cache.shape)}."
            )
        slots = cache.shape[2] - num_global
        length = query.shape[1]
        index = ops.cast(cache_update_index, "int32")
        query_heads, key_heads, value_heads = self._project(query)  # (b, n, h, d)
        batch = ops.shape(query_heads)[0]
        new_positions = index + ops.arange(length, dtype="int32")  # (n,)
        # Slot s holds the last position p < index with p % slots == s (negative: empty).
        slot = ops.arange(slots, dtype="int32")
        ring_positions = index - 1 - ops.mod(index - 1 - slot, slots)  # (slots,)
        global_positions = ops.arange(num_global, dtype="int32")
        key_positions = ops.concatenate([global_positions, ring_positions, new_positions])
        written = ops.concatenate(
            [
                global_positions < index,
                ring_positions >= num_global,  # globals sit in their own slots
                ops.ones((length,), "bool"),
            ]
        )  # (keys,)
        i = new_positions[:, None]
        j = key_positions[None, :]
        pair = ops.logical_and(
            ops.logical_and(j <= i, written[None, :]),
            ops.logical_or(i - j <= self.attention_window, j < num_global),
        )  # (n, keys)
        mask = pair[None, None]  # (1, 1, n, keys)
        new_valid = None
        if padding_mask is not None:
            positions_valid = ops.cast(padding_mask, "bool")  # (b, max_length)
            gathered = ops.take(
                positions_valid, ops.clip(key_positions, 0, positions_valid.shape[1] - 1), axis=1
            )  # (b, keys)
            mask = ops.logical_and(mask, gathered[:, None, None, :])
            new_valid = gathered[:, num_global + slots :]  # (b, n)

        keys = ops.concatenate([cache[:, 0], ops.cast(key_heads, cache.dtype)], axis=1)
        values = ops.concatenate([cache[:, 1], ops.cast(value_heads, cache.dtype)], axis=1)
        logits = self._scaled_logits("bqhd,bkhd->bhqk", query_heads, keys)
        probabilities = ops.softmax(_hide(logits, mask), axis=-1)
        attended = self._weighted_sum("bhqk,bkhd->bqhd", probabilities, values, None)
        output = flat_projection(ops.cast(attended, self.compute_dtype), self._output_dense, 2)

        # Write: globals at their slot, the ring from this call's last real positions.
        new = ops.stack([key_heads, value_heads], axis=1)  # (b, 2, n, h, d)
        new = ops.cast(new, cache.dtype)
        count = length if new_valid is None else ops.sum(ops.cast(new_valid, "int32"), axis=1)
        end = ops.reshape(index + ops.cast(count, "int32"), (-1, 1))  # (b or 1, 1)
        latest = end - 1 - ops.mod(end - 1 - slot[None, :], slots)  # (b or 1, slots)
        take = ops.broadcast_to(latest >= index, (batch, slots))
        offsets = ops.broadcast_to(ops.clip(latest - index, 0, length - 1), (batch, slots))
        expand = (batch, 2, slots, *new.shape[3:])
        gathered = ops.take_along_axis(
            new, ops.broadcast_to(offsets[:, None, :, None, None], expand), axis=2
        )
        ring = ops.where(take[:, None, :, None, None], gathered, cache[:, :, num_global:])
        parts = [ring]
        if num_global:
            first = ops.arange(num_global, dtype="int32")
            in_call = ops.logical_and(first >= index, first < ops.minimum(end, index + length))
            offsets = ops.clip(first - index, 0, length - 1)  # (g,)
            fresh = ops.take(new, offsets, axis=2)  # (b, 2, g, h, d)
            in_call = ops.broadcast_to(in_call, (batch, num_global))
            parts.insert(
                0, ops.where(in_call[:, None, :, None, None], fresh, cache[:, :, :num_global])
            )
        return output, ops.concatenate(parts, axis=2)

    def _attend_efficient(self, q, k, v, padding_mask, causal, training):
        length = q.shape[2]
        num_global = min(self.num_global_tokens, length)
        chunk = max(1, min(self.attention_window, length))
        # (b, h, chunks, c, d); positions (chunks, c); valid (b, padded), (b, chunks, c)
        chunks, positions, valid, valid_chunks = _cut_blocks(q, k, v, padding_mask, chunk)
        q_chunks, k_chunks, v_chunks = chunks
        padded = valid.shape[-1]

        # Window: each chunk of queries against the previous, own (and next) chunk of keys.
        shifts = (1, 0) if causal else (1, 0, -1)
        window_keys, window_values, window_positions, window_valid = _neighbour_blocks(
            k_chunks, v_chunks, positions, valid_chunks, shifts
        )
        i = positions[:, :, None]  # (chunks, c, 1)
        j = window_positions[:, None, :]  # (chunks, 1, keys)
        pair = ops.abs(i - j) <= self.attention_window
        if causal:
            pair = ops.logical_and(pair, j <= i)
        if num_global:
            pair = ops.logical_and(pair, j >= num_global)  # global keys are counted below
        window_mask = ops.logical_and(window_valid[:, None, :, None, :], pair)
        window_logits = self._scaled_logits("bhnqd,bhnkd->bhnqk", q_chunks, window_keys)
        logits = [_hide(window_logits, window_mask)]  # (b, h, chunks, c, keys)

        if num_global:
            global_keys, global_values = k[:, :, :num_global], v[:, :, :num_global]
            global_logits = self._scaled_logits("bhnqd,bhkd->bhnqk", q_chunks, global_keys)
            global_pair = ops.arange(num_global, dtype="int32")[None, None, :]
            global_pair = global_pair <= i if causal else ops.ones_like(global_pair) > 0
            global_mask = ops.logical_and(
                valid[:, None, None, None, :num_global], global_pair
            )  # (b, 1, chunks, c, g)
            logits.append(_hide(global_logits, global_mask))

        probabilities = ops.softmax(ops.concatenate(logits, axis=-1), axis=-1)
        num_window = window_logits.shape[-1]
        attended = self._weighted_sum(
            "bhnqk,bhnkd->bhnqd", probabilities[..., :num_window], window_values, training
        )
        if num_global:
            attended = attended + self._weighted_sum(
                "bhnqk,bhkd->bhnqd", probabilities[..., num_window:], global_values, training
            )
        attended = ops.reshape(attended, (-1, self.num_heads, padded, v.shape[-1]))[:, :, :length]
        if not num_global:
            return attended

        # Global queries see every key (every earlier key when causal): O(g·n).
        rows_logits = self._scaled_logits("bhqd,bhkd->bhqk", q[:, :, :num_global], k)
        rows_mask = valid[:, None, None, :length]  # (b, 1, 1, n)
        if causal:
            causal_rows = ops.arange(length)[None, :] <= ops.arange(num_global)[:, None]
            rows_mask = ops.logical_and(rows_mask, causal_rows)
        rows = ops.softmax(_hide(rows_logits, rows_mask), axis=-1)
        global_attended = self._weighted_sum("bhqk,bhkd->bhqd", rows, v, training)
        return ops.concatenate([global_attended, attended[:, :, num_global:]], axis=2)
