"""GPT: a decoder-only Transformer language model with tied input/output embeddings.

`GPT` embeds tokens plus learned positions, runs pre-LN decoder blocks (causal
self-attention and a feed-forward network, no cross-attention), applies a final
LayerNorm and projects back onto the vocabulary with the transposed token embedding
matrix. It returns float32 next-token logits.

For generation (`zoo.models.generation`) it exposes a key/value cache:
`init_cache(batch_size, max_length)` and `call_with_cache(token_ids, cache,
cache_update_index, padding_mask=None)`. `GPT.from_keras_hub(backbone)` copies the
weights of a `keras_hub.models.GPT2Backbone`.
"""

import keras
from keras import ops

from zoo.layers.transformer import TransformerDecoderBlock
from zoo.models.backbone import (
    BACKBONE_ARGUMENTS,
    FunctionalModel,
    block_stack,
    check_stack_arguments,
    float32_logits,
    int_input,
    learned_embeddings,
)
from zoo.models.layout import check_stack_parallel, stack_layout_map

__all__ = ["GPT"]


@keras.saving.register_keras_serializable(package="zoo")
class GPT(FunctionalModel):
    """GPT: a causal (decoder-only) Transformer language model, GPT-2 style.

    Token embeddings plus learned position embeddings (then dropout) go through
    `num_layers` pre-LN decoder blocks, `x + F(LN(x))`, with causal self-attention
    (position t sees positions <= t) and no cross-attention; a final LayerNorm follows.
    The output projection is tied to the token embeddings, `logits = h E^T`, returned
    as float32 (also under `mixed_bfloat16`).

    The defaults match keras-hub's `GPT2Backbone` (GELU with the tanh approximation,
    LayerNorm epsilon 1e-5), so `GPT.from_keras_hub(backbone)` reproduces its outputs.

    Cache protocol (fixed shapes; `cache_update_index` may be a traced scalar, so a
    decoding loop compiles once with XLA):

    - `init_cache(batch_size, max_length)`: zeros `(batch, num_layers, 2, max_length,
      num_heads, head_dim)` in the compute dtype (keys at index 0, values at 1).
    - `call_with_cache(token_ids, cache, cache_update_index, padding_mask=None)`: writes
      the keys/values of `token_ids` `(batch, n)` at positions `[cache_update_index,
      cache_update_index + n)` and returns `(logits, hidden_states, cache)`: float32
      `(batch, n, vocabulary_size)`, `(batch, n, hidden_dim)` after the final
      LayerNorm, and the updated cache. `padding_mask`, if given, is
      `(batch, max_length)` over cache positions (falsy: never attended).
    - `init_layer_caches(batch_size, max_length)`: the same zeros as a tuple of
      `num_layers` tensors `(batch, 2, max_length, num_heads, head_dim)`, one per block;
      `call_with_cache` takes and returns that form too. A decoding loop should carry
      this form: each block then updates its own tensor in place, where the stacked
      tensor is sliced per block and written back every step (in greedy generation of
      `benchmarks/generation.py`, XLA on one CPU thread, the per-layer form made the loop
      take about 1.8x less time).

    References: Radford et al., "Improving Language Understanding by Generative
    Pre-Training", 2018; Radford et al., "Language Models are Unsupervised Multitask
    Learners" (GPT-2), 2019.

    Args:
        vocabulary_size: number of token ids.
        num_layers: number of decoder blocks.
        num_heads: attention heads per block; must divide `hidden_dim`.
        hidden_dim: model width.
        intermediate_dim: feed-forward width (4 * hidden_dim in GPT-2).
        dropout: dropout on embeddings, sub-layer outputs and attention probabilities.
        max_sequence_length: number of learned positions (longest context).
        activation: feed-forward activation.
        layer_norm_epsilon: LayerNorm epsilon.
        attention: self-attention of every block: `"full"`, `"sparse"`, `"longformer"`,
            `"performer"` or `"reformer"` (`"linformer"` is refused, see below).
        attention_options: dict of that attention's own arguments, see
            `zoo.layers.efficient_attention`. Cached generation
            (`call_with_cache`) works with `"full"`, `"sparse"` (key/value caches),
            `"longformer"` (a ring of the global tokens and the last `attention_window`
            positions) and `"performer"` (a recurrent state per block, float32 `(batch,
            heads, num_features, head_dim + 1)`); each cached step equals the full
            pass. `"reformer"` raises a ValueError there (generate with
            `generate(..., use_cache=False)`), and `"linformer"` has no causal mode: `GPT`
            refuses it with a ValueError that says so and names the alternatives.
        dtype: dtype policy, e.g. `"mixed_bfloat16"`.
        **kwargs: `name`, `trainable`.

    Call arguments (a dict):
        token_ids: int `(batch, sequence)`.
        padding_mask: `(batch, sequence)`, truthy for real tokens.

    Returns:
        float32 logits `(batch, sequence, vocabulary_size)`.

    Token ids outside `[0, vocabulary_size)`: a call on concrete values (NumPy arrays,
    eager tensors) raises a ValueError naming the id. Inside traced or compiled code
    (`fit`, `predict`, `zoo.models.generation`) the values are unknown when the program
    is built and nothing checks them: under XLA the embedding lookup clamps them to a
    valid row, without XLA TensorFlow's gather fails on CPU (returns zeros on GPU), and
    negative ids count from the end. Feed ids from the model's tokenizer.

    Example:

    >>> import numpy as np
    >>> model = GPT(vocabulary_size=100, num_layers=2, num_heads=2, hidden_dim=16,
    ...             intermediate_dim=64, max_sequence_length=32)
    >>> logits = model({"token_ids": np.array([[5, 10, 11, 12]]),
    ...                 "padding_mask": np.ones((1, 4), "int32")})
    >>> tuple(logits.shape)
    (1, 4, 100)
    """

    _config_arguments = (
        *BACKBONE_ARGUMENTS,
        "activation",
        "layer_norm_epsilon",
        "attention",
        "attention_options",
    )

    def __init__(
        self,
        vocabulary_size,
        num_layers,
        num_heads,
        hidden_dim,
        intermediate_dim,
        dropout=0.1,
        max_sequence_length=1024,
        activation="gelu_approximate",
        layer_norm_epsilon=1e-5,
        attention="full",
        attention_options=None,
        dtype=None,
        **kwargs,
    ):
        attention_options = check_stack_arguments(type(self).__name__, locals())
        if attention == "linformer":
            # Said here, before Keras builds the graph and wraps the layer's error in its own
            # "Could not automatically infer the output shape".
            raise ValueError(
                "GPT received attention='linformer', which has no causal mode: its "
                "projections mix all positions, so a token would see the ones after it. Pick "
                "'performer', 'longformer', 'sparse' or 'reformer' (or 'full') for GPT, and "
                "Linformer for encoders (Bert)."
            )
        block_attention_options = dict(attention_options)
        check_stack_parallel(
            type(self).__name__,
            vocabulary_size,
            num_layers,
            hidden_dim,
            num_heads,
            intermediate_dim,
        )

        # === Layers ===
        self.embeddings = learned_embeddings(
            vocabulary_size, max_sequence_length, hidden_dim, dropout, dtype
        )
        self.transformer_layers = block_stack(
            TransformerDecoderBlock,
            locals(),
            normalize_first=True,
            attention_options=block_attention_options,
        )
        self.layer_norm = keras.layers.LayerNormalization(
            epsilon=layer_norm_epsilon, dtype=dtype, name="layer_norm"
        )

        # === Functional model ===
        inputs = {
            "token_ids": int_input("token_ids"),
            "padding_mask": int_input("padding_mask"),
        }
        x = self.embeddings(inputs["token_ids"])  # (batch, sequence, hidden)
        for block in self.transformer_layers:
            x = block(x, decoder_padding_mask=inputs["padding_mask"])
        logits = float32_logits(self.embeddings.logits(self.layer_norm(x)))
        super().__init__(inputs=inputs, outputs=logits, dtype=dtype, **kwargs)

        # === Config ===
        self._keep_arguments(locals())

    # --- Cached decoding (the protocol of zoo.models.generation) ---

    def _attention_states(self, batch_size, max_length):
        """Each block's own decoding cache (Performer, Longformer), or None for key/value
        caches."""
        states = [
            block.init_self_attention_cache(batch_size, max_length)
            for block in self.transformer_layers
        ]
        return None if any(state is None for state in states) else tuple(states)

    def init_cache(self, batch_size, max_length):
        """Zeros `(batch, num_layers, 2, max_length, num_heads, head_dim)`, compute dtype.

        With an attention that has its own cache, the blocks' caches stacked instead:
        `"performer"`, recurrent states, float32 `(batch, num_layers, num_heads,
        num_features, head_dim + 1)`; `"longformer"`, rings `(batch, num_layers, 2,
        num_global_tokens + min(attention_window, max_length), num_heads, head_dim)`.
        """
        states = self._attention_states(batch_size, max_length)
        if states is not None:
            return ops.stack(states, axis=1)
        shape = (
            batch_size,
            self.num_layers,
            2,
            max_length,
            self.num_heads,
            self.hidden_dim // self.num_heads,
        )
        return ops.zeros(shape, dtype=self.embeddings.compute_dtype)

    def init_layer_caches(self, batch_size, max_length):
        """`num_layers` zeros `(batch, 2, max_length, num_heads, head_dim)`, as a tuple.

        With `attention="performer"` or `"longformer"`: each block's own cache, a
        recurrent state or a ring (see `PerformerAttention.init_cache`,
        `LongformerAttention.init_cache`).
        """
        states = self._attention_states(batch_size, max_length)
        if states is not None:
            return states
        shape = (batch_size, 2, max_length, self.num_heads, self.hidden_dim // self.num_heads)
        dtype = self.embeddings.compute_dtype
        return tuple(ops.zeros(shape, dtype=dtype) for _ in range(self.num_layers))

    def call_with_cache(self, token_ids, cache, cache_update_index, padding_mask=None):
        """Run `token_ids` `(batch, n)` at positions `cache_update_index ...` with the cache.

        `cache` is the tensor of `init_cache` or the tuple of `init_layer_caches`; the
        updated cache comes back in the same form. Returns `(logits, hidden_states,
        cache)`; see the class docstring.
        """
        per_layer = isinstance(cache, (tuple, list))
        if per_layer and len(cache) != self.num_layers:
            raise ValueError(
                f"A per-layer cache needs one tensor per block ({self.num_layers}). "
                f"Received {len(cache)} tensors; make it with `init_layer_caches`."
            )
        x = self.embeddings(token_ids, start_index=cache_update_index)  # (batch, n, hidden)
        layer_caches = []
        for i, block in enumerate(self.transformer_layers):
            x, layer_cache = block(
                x,
                decoder_padding_mask=padding_mask,
                self_attention_cache=cache[i] if per_layer else cache[:, i],
                self_attention_cache_update_index=cache_update_index,
            )  # layer_cache: (batch, 2, max_length, heads, head_dim)
            layer_caches.append(layer_cache)
        # (batch, layers, 2, max_length, heads, head_dim) again, unless given per layer.
        cache = tuple(layer_caches) if per_layer else ops.stack(layer_caches, axis=1)
        hidden_states = self.layer_norm(x)
        logits = float32_logits(self.embeddings.logits(hidden_states))
        return logits, hidden_states, cache

    @classmethod
    def from_keras_hub(cls, backbone, **kwargs):
        """A `GPT` with the config and weights of a `keras_hub.models.GPT2Backbone`.

        Keyword arguments (e.g. `dtype`, `dropout`) override the copied config.
        """
        from zoo.models.interop import gpt_from_keras_hub

        return gpt_from_keras_hub(cls, backbone, **kwargs)

    @classmethod
    def from_preset(cls, preset, **kwargs):
        """A `GPT` with the config and weights of a pretrained checkpoint.

        `preset`: a keras-hub preset directory (`save_to_preset` of a `GPT2Backbone`) or
        name, or a Hugging Face "gpt2" checkpoint directory (`config.json` +
        `model.safetensors`) or "hf://org/name". Names and "hf://" ids download;
        directories load offline. A config field Zoo cannot reproduce is a ValueError
        naming it. Keyword arguments (e.g. `dtype`, `dropout`) override the mapped
        config. See `zoo.models.presets`.
        """
        from zoo.models.presets import load_preset

        return load_preset(cls, "gpt", preset, **kwargs)

    @classmethod
    def layout_map(cls, device_mesh, model_axis="model", batch_axis="batch"):
        """A Megatron-style `keras.distribution.LayoutMap` for `ModelParallel` (JAX).

        Splits over `model_axis`, and replicates over `batch_axis`:

        - `embeddings/token_embedding/embeddings` `(vocabulary, hidden)`: `(model, None)`;
          the tied output projection reuses it, so the logits come out split over the
          vocabulary and the loss's softmax reduces across the model axis;
        - in every `transformer_layer_<i>/self_attention`: the `query` / `key` / `value`
          kernels `(hidden, heads, head_dim)` as `(None, model, None)` and biases
          `(heads, head_dim)` as `(model, None)` (column-parallel), the `attention_output`
          kernel `(heads, head_dim, hidden)` as `(model, None, None)` (row-parallel);
        - in every `transformer_layer_<i>/feed_forward`: `intermediate_dense` kernel
          `(None, model)` and bias `(model,)`, `output_dense` kernel `(model, None)`.

        Everything else is replicated: LayerNorms (the blocks' and the final
        `layer_norm`), position embeddings, the row-parallel layers' output biases. With
        an efficient attention (`attention="sparse"`, ...) the standard `query` / `key` /
        `value` / `attention_output` kernels are split the same way and the attention's
        own variables (e.g. Performer's `random_features`) are replicated.

        `vocabulary_size`, `num_heads` and `intermediate_dim` must be divisible by the
        size of `model_axis`; building a `GPT` under a `ModelParallel` with this map
        raises a ValueError naming the argument otherwise (pad the vocabulary, e.g.
        GPT-2's 50257 to 50304).

        The arguments are those of `zoo.models.build_layout_map` (less `rules`):
        `device_mesh`, a `keras.distribution.DeviceMesh` such as `(2, 4)` over
        `("batch", "model")`, and the names of its `model_axis` and `batch_axis`. The
        `zoo.models.layout` module doc shows the map under `ModelParallel`; with `mesh`:

        >>> GPT.layout_map(mesh)["transformer_layer_0/feed_forward/output_dense/kernel"].axes
        ('model', None)
        """
        return stack_layout_map(device_mesh, model_axis, batch_axis)

    def _id_limits(self):
        return {"token_ids": getattr(self, "vocabulary_size", None)}
