"""The encoder-decoder Transformer of "Attention Is All You Need".

- `Transformer`: token embeddings (scaled by sqrt(d)) plus sinusoidal positions, a stack
  of encoder blocks, a stack of decoder blocks (causal self-attention, cross-attention to
  the encoder output), and an output projection to the target vocabulary (tied to the
  target embeddings by default). Logits are float32, also under mixed precision.
- `Transformer.from_preset("transformer_base")`: the paper's base model (d=512, 6+6
  layers, 8 heads, FF 2048, dropout 0.1); `"transformer_tiny"` for tests and CPUs.

Its training recipe lives beside the other schedules and losses: `TransformerSchedule`
and `transformer_optimizer` in `zoo.optimizers`, `LabelSmoothedCrossEntropy` in
`zoo.models.losses`. The model base and helpers shared with `zoo.models.bert` and
`zoo.models.gpt` are in `zoo.models.backbone`.
"""

import os

import keras
from keras import ops

from zoo.layers.embeddings import TokenAndPositionEmbedding
from zoo.layers.transformer import TransformerDecoderBlock, TransformerEncoderBlock
from zoo.models.backbone import (
    BACKBONE_ARGUMENTS,
    FunctionalModel,
    check_model_arguments,
    check_preset,
    float32_logits,
    int_input,
)
from zoo.models.layout import (
    SCOPE_PREFIX,
    block_rules,
    build_layout_map,
    check_model_parallel,
    token_embedding_rule,
)

__all__ = ["Transformer"]


# ---------------------------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------------------------

PRESETS = {
    # Vaswani et al. 2017, table 3, "base": a 37k shared BPE vocabulary for en-de.
    "transformer_base": {
        "vocabulary_size": 37000,
        "num_layers": 6,
        "num_heads": 8,
        "hidden_dim": 512,
        "intermediate_dim": 2048,
        "dropout": 0.1,
        "max_sequence_length": 512,
    },
    # Small enough for tests and CPU recipes.
    "transformer_tiny": {
        "vocabulary_size": 8000,
        "num_layers": 2,
        "num_heads": 4,
        "hidden_dim": 128,
        "intermediate_dim": 512,
        "dropout": 0.1,
        "max_sequence_length": 128,
    },
}


@keras.saving.register_keras_serializable(package="zoo")
class Transformer(FunctionalModel):
    """The encoder-decoder Transformer (Vaswani et al. 2017) for sequence-to-sequence tasks.

    The encoder embeds the source tokens (embeddings multiplied by sqrt(hidden_dim), plus
    sinusoidal positions, then dropout) and runs `num_encoder_layers` encoder blocks
    (self-attention + feed-forward, post-LN as in the paper). The decoder embeds the
    target tokens the same way and runs `num_decoder_layers` decoder blocks: causal
    self-attention ("no information from the future"), cross-attention to the encoder
    output, feed-forward. A linear projection gives next-token logits over the target
    vocabulary, as float32 (also under `mixed_bfloat16`).

    Embedding sharing (section 3.4 of the paper): with one shared bilingual
    `vocabulary_size`, source and target use one embedding matrix (`share_embeddings`,
    default on); with `tie_embeddings` (default on) the output projection is the
    transposed target embedding matrix.

    Decoding with a key/value cache (used by `zoo.models.generation`):
    `encode(encoder_token_ids, encoder_padding_mask)` runs the encoder once,
    `init_cache(batch_size, max_length, encoder_output)` makes the cache dict
    `{"self": zeros (batch, num_decoder_layers, 2, max_length, num_heads, head_dim),
    "cross": encoder keys/values (batch, num_decoder_layers, 2, source, num_heads,
    head_dim)}` and `call_with_cache(decoder_token_ids, cache, cache_update_index,
    encoder_padding_mask)` returns `(logits, hidden_states, cache)`; shapes stay fixed,
    so a decoding loop compiles once with XLA.

    Reference: Vaswani et al., "Attention Is All You Need", 2017,
    https://arxiv.org/abs/1706.03762.

    Args:
        vocabulary_size: size of a shared source/target vocabulary; or pass
            `source_vocabulary_size` and `target_vocabulary_size` instead.
        num_layers: number of encoder and of decoder blocks (6 in the paper); or pass
            `num_encoder_layers` / `num_decoder_layers`.
        num_heads: attention heads per block; must divide `hidden_dim`.
        hidden_dim: model width d.
        intermediate_dim: feed-forward width (4 d in the paper).
        dropout: dropout on embeddings, sub-layer outputs and attention probabilities.
        max_sequence_length: longest source or target sequence accepted.
        source_vocabulary_size, target_vocabulary_size: separate vocabularies.
        num_encoder_layers, num_decoder_layers: separate depths.
        tie_embeddings: the output projection is the transposed target embedding matrix.
        share_embeddings: source and target share one embedding matrix (needs equal
            vocabularies); `None`: on when `vocabulary_size` is given.
        activation: feed-forward activation (`"relu"` in the paper).
        layer_norm_epsilon: LayerNorm epsilon.
        normalize_first: pre-LN blocks (adds a final LayerNorm to encoder and decoder)
            instead of the paper's post-LN.
        generation_config: default decoding settings of `zoo.models.generation.translate`
            and of the exported `translate` signature when none are given: a dict of
            `GenerationConfig` fields (`bos_token_id`, `end_token_id`, `pad_token_id`,
            `suppressed_token_ids`); `from_preset` of a Marian checkpoint sets Marian's
            (start from and never emit the pad id, stop at `</s>`). Default None.
        dtype: dtype policy, e.g. `"mixed_bfloat16"`.
        **kwargs: `name`, `trainable`.

    Call arguments (a dict):
        encoder_token_ids: int `(batch, source)`.
        encoder_padding_mask: `(batch, source)`, truthy for real tokens.
        decoder_token_ids: int `(batch, target)`.
        decoder_padding_mask: `(batch, target)`.

    Returns:
        float32 logits `(batch, target, target_vocabulary_size)`.

    Encoder ids outside `[0, source_vocabulary_size)` and decoder ids outside `[0,
    target_vocabulary_size)`: a call on concrete values (NumPy arrays, eager tensors)
    raises a ValueError naming the id. Inside traced or compiled code (`fit`,
    `predict`, `zoo.models.generation`) the values are unknown when the program is built
    and nothing checks them: under XLA the embedding lookup clamps them to a valid row,
    without XLA TensorFlow's gather fails on CPU (returns zeros on GPU), and negative
    ids count from the end. Feed ids from the model's tokenizer.

    Example:

    >>> import numpy as np
    >>> model = Transformer.from_preset("transformer_tiny", vocabulary_size=100)
    >>> batch = {
    ...     "encoder_token_ids": np.array([[7, 8, 9, 0]]),
    ...     "encoder_padding_mask": np.array([[1, 1, 1, 0]]),
    ...     "decoder_token_ids": np.array([[5, 10, 11]]),
    ...     "decoder_padding_mask": np.array([[1, 1, 1]]),
    ... }
    >>> tuple(model(batch).shape)
    (1, 3, 100)
    """

    _config_arguments = (
        *BACKBONE_ARGUMENTS,
        "source_vocabulary_size",
        "target_vocabulary_size",
        "num_encoder_layers",
        "num_decoder_layers",
        "tie_embeddings",
        "share_embeddings",
        "activation",
        "layer_norm_epsilon",
        "normalize_first",
    )

    def __init__(
        self,
        vocabulary_size=None,
        num_layers=None,
        num_heads=8,
        hidden_dim=512,
        intermediate_dim=2048,
        dropout=0.1,
        max_sequence_length=512,
        source_vocabulary_size=None,
        target_vocabulary_size=None,
        num_encoder_layers=None,
        num_decoder_layers=None,
        tie_embeddings=True,
        share_embeddings=None,
        activation="relu",
        layer_norm_epsilon=1e-5,
        normalize_first=False,
        generation_config=None,
        dtype=None,
        **kwargs,
    ):
        owner = type(self).__name__
        source_vocabulary_size, target_vocabulary_size, share_embeddings = self._vocabularies(
            vocabulary_size, source_vocabulary_size, target_vocabulary_size, share_embeddings
        )
        num_encoder_layers = num_encoder_layers or num_layers
        num_decoder_layers = num_decoder_layers or num_layers
        if num_encoder_layers is None or num_decoder_layers is None:
            raise ValueError(
                f"{owner} needs its depth: pass num_layers=6 (encoder and decoder), or "
                "num_encoder_layers and num_decoder_layers. Received: "
                f"num_layers={num_layers}, num_encoder_layers={num_encoder_layers}, "
                f"num_decoder_layers={num_decoder_layers}."
            )
        check_model_arguments(
            owner,
            num_heads,
            hidden_dim,
            dropout,
            activation,
            num_encoder_layers=num_encoder_layers,
            num_decoder_layers=num_decoder_layers,
            intermediate_dim=intermediate_dim,
            max_sequence_length=max_sequence_length,
            source_vocabulary_size=source_vocabulary_size,
            target_vocabulary_size=target_vocabulary_size,
        )
        self._check_model_parallel(locals())

        # === Layers ===
        def embedding(vocabulary, name):
            return TokenAndPositionEmbedding(
                vocabulary,
                max_sequence_length=max_sequence_length,
                hidden_dim=hidden_dim,
                position="sinusoidal",
                embeddings_scale=True,
                dropout=dropout,
                embeddings_initializer=keras.initializers.RandomNormal(stddev=hidden_dim**-0.5),
                dtype=dtype,
                name=name,
            )

        block_kwargs = {
            "num_heads": num_heads,
            "intermediate_dim": intermediate_dim,
            "dropout": dropout,
            "activation": activation,
            "layer_norm_epsilon": layer_norm_epsilon,
            "normalize_first": normalize_first,
            "dtype": dtype,
        }
        if share_embeddings:
            self.encoder_embedding = embedding(source_vocabulary_size, "token_embedding")
            self.decoder_embedding = self.encoder_embedding
        else:
            self.encoder_embedding = embedding(source_vocabulary_size, "encoder_token_embedding")
            self.decoder_embedding = embedding(target_vocabulary_size, "decoder_token_embedding")
        self.encoder_layers = [
            TransformerEncoderBlock(**block_kwargs, name=f"encoder_layer_{i}")
            for i in range(num_encoder_layers)
        ]
        self.decoder_layers = [
            TransformerDecoderBlock(**block_kwargs, name=f"decoder_layer_{i}")
            for i in range(num_decoder_layers)
        ]
        self.encoder_layer_norm = self.decoder_layer_norm = None
        if normalize_first:
            self.encoder_layer_norm = keras.layers.LayerNormalization(
                epsilon=layer_norm_epsilon, dtype=dtype, name="encoder_layer_norm"
            )
            self.decoder_layer_norm = keras.layers.LayerNormalization(
                epsilon=layer_norm_epsilon, dtype=dtype, name="decoder_layer_norm"
            )
        self.output_dense = None
        if not tie_embeddings:
            self.output_dense = keras.layers.Dense(
                target_vocabulary_size, dtype=dtype, name="output_dense"
            )

        # === Functional model ===
        inputs = {
            "encoder_token_ids": int_input("encoder_token_ids"),
            "encoder_padding_mask": int_input("encoder_padding_mask"),
            "decoder_token_ids": int_input("decoder_token_ids"),
            "decoder_padding_mask": int_input("decoder_padding_mask"),
        }
        encoder_output = self._encode(inputs["encoder_token_ids"], inputs["encoder_padding_mask"])
        x = self.decoder_embedding(inputs["decoder_token_ids"])  # (batch, target, hidden)
        for block in self.decoder_layers:
            x = block(
                x,
                encoder_output,
                decoder_padding_mask=inputs["decoder_padding_mask"],
                encoder_padding_mask=inputs["encoder_padding_mask"],
            )
        logits = self._logits(x)
        super().__init__(inputs=inputs, outputs=logits, dtype=dtype, **kwargs)

        # === Config ===
        self._keep_arguments(locals())
        if generation_config:
            from zoo.models.generation.config import GenerationConfig

            try:  # checked now, not at the first translate
                GenerationConfig(**generation_config)
            except (TypeError, ValueError) as error:
                raise ValueError(
                    f"{owner} received generation_config={generation_config!r}, which is not "
                    f"a dict of GenerationConfig fields: {error}"
                ) from error
        # A plain dict, past Keras's attribute tracking (it holds no layers or variables).
        object.__setattr__(
            self, "generation_config", dict(generation_config) if generation_config else None
        )

    def _id_limits(self):
        shared = getattr(self, "vocabulary_size", None)
        return {
            "encoder_token_ids": getattr(self, "source_vocabulary_size", None) or shared,
            "decoder_token_ids": getattr(self, "target_vocabulary_size", None) or shared,
        }

    @staticmethod
    def _vocabularies(vocabulary_size, source_size, target_size, share_embeddings):
        if vocabulary_size is not None:
            if source_size not in (None, vocabulary_size) or target_size not in (
                None,
                vocabulary_size,
            ):
                raise ValueError(
                    "Transformer received vocabulary_size (shared) together with different "
                    f"source_vocabulary_size={source_size} / target_vocabulary_size="
                    f"{target_size}. Pass either vocabulary_size or the two separate sizes."
                )
            source_size = target_size = vocabulary_size
            share_embeddings = True if share_embeddings is None else share_embeddings
        elif source_size is None or target_size is None:
            raise ValueError(
                "Transformer needs vocabulary_size (a shared bilingual vocabulary) or both "
                f"source_vocabulary_size and target_vocabulary_size. Received: "
                f"source_vocabulary_size={source_size}, target_vocabulary_size={target_size}."
            )
        share_embeddings = bool(share_embeddings)
        if share_embeddings and source_size != target_size:
            raise ValueError(
                "share_embeddings=True needs one vocabulary for both sides. Received: "
                f"source_vocabulary_size={source_size}, target_vocabulary_size={target_size}. "
                "Use a shared bilingual tokenizer, or share_embeddings=False."
            )
        return source_size, target_size, share_embeddings

    @staticmethod
    def _check_model_parallel(arguments):
        """Under `ModelParallel`: split sizes divisible by the mesh (`zoo.models.layout`).

        `arguments`: the constructor's `locals()` once the vocabulary sizes, the sharing
        and the depths are resolved.
        """
        hidden_dim = arguments["hidden_dim"]
        shared = arguments["vocabulary_size"] is not None

        def size(name):  # (the argument that sets a vocabulary, its size)
            return ("vocabulary_size" if shared else name, arguments[name])

        source, target = size("source_vocabulary_size"), size("target_vocabulary_size")
        if arguments["share_embeddings"]:
            vocabularies = {"token_embedding": source}
        else:
            vocabularies = {"encoder_token_embedding": source, "decoder_token_embedding": target}
        extra = ()
        if not arguments["tie_embeddings"]:
            extra = (
                ("output_dense/kernel", (("hidden_dim", hidden_dim), target)),
                ("output_dense/bias", (target,)),
            )
        blocks = [(f"encoder_layer_{i}", False) for i in range(arguments["num_encoder_layers"])]
        blocks += [(f"decoder_layer_{i}", True) for i in range(arguments["num_decoder_layers"])]
        check_model_parallel(
            "Transformer",
            vocabularies,
            blocks,
            hidden_dim,
            arguments["num_heads"],
            arguments["intermediate_dim"],
            extra,
        )

    @classmethod
    def layout_map(cls, device_mesh, model_axis="model", batch_axis="batch"):
        """A Megatron-style `keras.distribution.LayoutMap` for `ModelParallel` (JAX).

        Splits over `model_axis`, and replicates over `batch_axis`:

        - the token embedding matrices `(vocabulary, hidden)`, shared
          (`token_embedding/token_embedding/embeddings`) or separate
          (`encoder_token_embedding/...`, `decoder_token_embedding/...`): `(model, None)`;
          the tied output projection reuses the target matrix, so the logits come out
          split over the vocabulary. An untied projection (`tie_embeddings=False`),
          `output_dense`, is column-parallel too: kernel `(None, model)`, bias `(model,)`;
        - in every `encoder_layer_<i>` and `decoder_layer_<i>`, for `self_attention` and
          the decoder's `cross_attention`: the `query` / `key` / `value` kernels
          `(hidden, heads, head_dim)` as `(None, model, None)` and biases
          `(heads, head_dim)` as `(model, None)` (column-parallel), the
          `attention_output` kernel `(heads, head_dim, hidden)` as `(model, None, None)`
          (row-parallel);
        - in every block's `feed_forward`: `intermediate_dense` kernel `(None, model)`
          and bias `(model,)`, `output_dense` kernel `(model, None)`.

        Everything else is replicated: LayerNorms, the row-parallel layers' output
        biases (the positions are sinusoidal, not variables).

        The vocabulary sizes, `num_heads` and `intermediate_dim` must be divisible by the
        size of `model_axis`; building a `Transformer` under a `ModelParallel` with this
        map raises a ValueError naming the argument otherwise (pad the vocabulary).

        The arguments are those of `zoo.models.build_layout_map` (less `rules`):
        `device_mesh`, a `keras.distribution.DeviceMesh` such as `(2, 4)` over
        `("batch", "model")`, and the names of its `model_axis` and `batch_axis`. The
        `zoo.models.layout` module doc shows the map under `ModelParallel`; with `mesh`:

        >>> layout_map = Transformer.layout_map(mesh)
        >>> layout_map["decoder_layer_0/cross_attention/attention_output/kernel"].axes
        ('model', None, None)
        """
        # The model's own `output_dense`, not the blocks' `feed_forward/output_dense`.
        output_dense = rf"{SCOPE_PREFIX}(?<!feed_forward/)output_dense"
        rules = [
            token_embedding_rule(r"(?:encoder_|decoder_)?token_embedding", model_axis),
            *block_rules(r"(?:encoder|decoder)_layer_\d+", model_axis),
            (rf"{output_dense}/kernel", (None, model_axis)),
            (rf"{output_dense}/bias", (model_axis,)),
        ]
        return build_layout_map(device_mesh, rules, model_axis, batch_axis)

    def _encode(self, token_ids, padding_mask, training=None):
        x = self.encoder_embedding(token_ids, training=training)  # (batch, source, hidden)
        for block in self.encoder_layers:
            x = block(x, padding_mask=padding_mask, training=training)
        if self.encoder_layer_norm is not None:
            x = self.encoder_layer_norm(x)
        return x

    def _logits(self, x):
        if self.decoder_layer_norm is not None:
            x = self.decoder_layer_norm(x)
        if self.output_dense is None:
            logits = self.decoder_embedding.logits(x)
        else:
            logits = self.output_dense(x)
        return float32_logits(logits)  # (batch, target, vocabulary)

    # --- Cached decoding (the protocol of zoo.models.generation) ---

    def encode(self, encoder_token_ids, encoder_padding_mask=None):
        """Run the encoder once: `(batch, source, hidden_dim)` encoder output."""
        if encoder_padding_mask is None:
            encoder_padding_mask = ops.ones_like(encoder_token_ids)
        return self._encode(encoder_token_ids, encoder_padding_mask, training=False)

    def _head_dim(self):
        return self.hidden_dim // self.num_heads

    def init_cache(self, batch_size, max_length, encoder_output):
        """`{"self": zeros, "cross": the encoder output's keys/values}` (see the class doc)."""
        self_cache = ops.zeros(
            (
                batch_size,
                self.num_decoder_layers,
                2,
                max_length,
                self.num_heads,
                self._head_dim(),
            ),
            dtype=self.decoder_embedding.compute_dtype,
        )
        cross_cache = ops.stack(
            [block.compute_cross_attention_cache(encoder_output) for block in self.decoder_layers],
            axis=1,
        )  # (batch, layers, 2, source, heads, head_dim)
        return {
            "self": self_cache,
            "cross": ops.cast(cross_cache, self.decoder_embedding.compute_dtype),
        }

    def call_with_cache(
        self, decoder_token_ids, cache, cache_update_index, encoder_padding_mask=None
    ):
        """One decoding step (or a prompt) with the key/value cache.

        Args:
            decoder_token_ids: int `(batch, n)`, written at positions
                `[cache_update_index, cache_update_index + n)`.
            cache: the dict from `init_cache` (or a previous call).
            cache_update_index: int or scalar tensor.
            encoder_padding_mask: `(batch, source)`; `None` for no source padding.

        Returns:
            `(logits, hidden_states, cache)`: float32 `(batch, n, target_vocabulary_size)`,
            `(batch, n, hidden_dim)` and the updated cache dict.
        """
        x = self.decoder_embedding(decoder_token_ids, start_index=cache_update_index)
        self_cache = cache["self"]
        for i, block in enumerate(self.decoder_layers):
            x, layer_cache, _ = block(
                x,
                decoder_padding_mask=None,
                encoder_padding_mask=encoder_padding_mask,
                self_attention_cache=self_cache[:, i],
                self_attention_cache_update_index=cache_update_index,
                cross_attention_cache=cache["cross"][:, i],
            )
            self_cache = ops.slice_update(
                self_cache, (0, i, 0, 0, 0, 0), ops.expand_dims(layer_cache, 1)
            )
        hidden_states = x if self.decoder_layer_norm is None else self.decoder_layer_norm(x)
        if self.output_dense is None:
            logits = self.decoder_embedding.logits(hidden_states)
        else:
            logits = self.output_dense(hidden_states)
        return float32_logits(logits), hidden_states, {"self": self_cache, "cross": cache["cross"]}

    # --- Presets and config ---

    @classmethod
    def presets(cls):
        """Names of the built-in configurations."""
        return sorted(PRESETS)

    @classmethod
    def from_preset(cls, preset, **kwargs):
        """A named configuration (random weights), or a pretrained translation model.

        `"transformer_base"`: the paper's base model (d=512, 6+6 layers, 8 heads, FF
        2048, dropout 0.1, a 37k shared vocabulary); `"transformer_tiny"`: 2+2 layers of
        width 128; no download. Train it with `zoo.optimizers.transformer_optimizer()` and
        `zoo.models.losses.LabelSmoothedCrossEntropy(0.1)`.

        Otherwise `preset` is a Hugging Face "marian" (opus-mt) checkpoint directory
        (`config.json` + `model.safetensors`), or "hf://org/name" (downloaded), loaded
        with its weights; a config field Zoo cannot reproduce is a ValueError naming it
        (see `zoo.models.presets`). Keyword arguments override the preset (e.g.
        `vocabulary_size=`, `dtype=`).
        """
        if not (isinstance(preset, str) and preset in PRESETS):
            if isinstance(preset, str) and "/" not in preset and not os.path.isdir(preset):
                check_preset(cls.__name__, preset, PRESETS)  # an unknown name: list them
            from zoo.models.presets import load_preset

            return load_preset(cls, "transformer", preset, **kwargs)
        config = check_preset(cls.__name__, preset, PRESETS)
        if "source_vocabulary_size" in kwargs or "target_vocabulary_size" in kwargs:
            config.pop("vocabulary_size")
        config.update(kwargs)
        return cls(**config)

    def get_config(self):
        config = super().get_config()
        if self.generation_config:
            config["generation_config"] = dict(self.generation_config)
        return config
