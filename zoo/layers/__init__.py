"""Keras layers of the zoo: attention, embeddings, feed-forward, Transformer blocks, masks.

Every layer computes with `keras.ops` (the tied projection's CPU training gradient adds
one backend call, see `zoo.layers.cpu_matmul`), honours its dtype policy (softmax and
LayerNorm statistics in float32 under `mixed_bfloat16`), compiles with XLA and is
registered for `.keras` saving under the package name `"zoo"`.
"""

from zoo.layers.attention import MultiHeadAttention
from zoo.layers.dropout import Dropout, dropout_mask
from zoo.layers.efficient_attention import (
    LinformerAttention,
    LongformerAttention,
    PerformerAttention,
    ReformerAttention,
    SparseAttention,
)
from zoo.layers.embeddings import (
    PositionEmbedding,
    RotaryEmbedding,
    SinusoidalPositionEncoding,
    TokenAndPositionEmbedding,
)
from zoo.layers.feed_forward import FeedForward
from zoo.layers.masks import compute_causal_mask, merge_padding_and_attention_mask
from zoo.layers.sentence_embedding import SentenceEmbedding, SentenceIndex, cosine_search
from zoo.layers.transformer import TransformerDecoderBlock, TransformerEncoderBlock

__all__ = [
    "Dropout",
    "FeedForward",
    "LinformerAttention",
    "LongformerAttention",
    "MultiHeadAttention",
    "PerformerAttention",
    "PositionEmbedding",
    "ReformerAttention",
    "RotaryEmbedding",
    "SentenceEmbedding",
    "SentenceIndex",
    "SinusoidalPositionEncoding",
    "SparseAttention",
    "TokenAndPositionEmbedding",
    "TransformerDecoderBlock",
    "TransformerEncoderBlock",
    "compute_causal_mask",
    "cosine_search",
    "dropout_mask",
    "merge_padding_and_attention_mask",
]
