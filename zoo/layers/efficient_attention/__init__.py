"""Efficient self-attention: Sparse Transformer, Longformer, Linformer, Performer, Reformer.

Full attention scores every query against every key: O(n²) time and memory. The layers
here keep the call signature of `zoo.layers.MultiHeadAttention` (they subclass it and
reuse its Q/K/V/output projections), so a Transformer block, `Bert` or `GPT` takes any of
them with `attention="sparse" | "longformer" | "linformer" | "performer" | "reformer"`:

| layer | what a query sees | time / memory |
|---|---|---|
| `SparseAttention` | a strided or fixed block pattern (Child et al., 2019) | O(n·(l + n/l)) |
| `LongformerAttention` | a sliding window of ±w plus global tokens | O(n·w) |
| `LinformerAttention` | k learned mixtures of the keys / values | O(n·k) |
| `PerformerAttention` | softmax kernel estimated with m random features | O(n·m) |
| `ReformerAttention` | keys in the same LSH bucket, sorted and chunked | O(n·c·hashes) |

Each layer computes block-wise or chunk-wise with static shapes (the sequence is padded
up to a multiple of the block size inside the layer), so it compiles with XLA; logits,
softmax and the random-feature maps run in float32 under mixed precision.

What each layer cannot do raises a `ValueError` saying so: all of them are
self-attention only (no `value=`/`key=` sequence, no arbitrary `attention_mask`, no
`return_attention_scores`); Linformer has no causal mode. Cached decoding (`GPT`
generation): `SparseAttention` reads a key/value cache (a dense masked row over the cache,
the same keys as the full forward pass); `LongformerAttention` a ring of its global tokens
and last `attention_window` positions, and `PerformerAttention` its recurrent state
`sum phi(k) [v, 1]^T`, `(batch, heads, num_features, key_dim + 1)`: both of a size that
does not grow with the context (`init_cache`). Linformer and Reformer raise on a cache:
generate with them through `zoo.models.generation.generate(..., use_cache=False)` (the
model reruns on the whole padded sequence at each step).
"""

from zoo.layers.efficient_attention.factory import (
    ATTENTION_TYPES,
    check_attention_options,
    make_attention,
)
from zoo.layers.efficient_attention.linformer import LinformerAttention
from zoo.layers.efficient_attention.longformer import LongformerAttention
from zoo.layers.efficient_attention.performer import PerformerAttention
from zoo.layers.efficient_attention.reformer import ReformerAttention
from zoo.layers.efficient_attention.sparse import SparseAttention

__all__ = [
    "ATTENTION_TYPES",
    "LinformerAttention",
    "LongformerAttention",
    "PerformerAttention",
    "ReformerAttention",
    "SparseAttention",
    "check_attention_options",
    "make_attention",
]
