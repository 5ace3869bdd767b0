"""Hugging Face checkpoints -> zoo models: `config.json` + safetensors, names mapped explicitly.

A checkpoint directory holds `config.json` (with `model_type`) and `model.safetensors`
(or shards listed in `model.safetensors.index.json`); "hf://org/name" downloads those
files with `huggingface_hub` first, only when asked. Weights are read with `safetensors`
as NumPy arrays (float16 / bfloat16 are cast to float32); no PyTorch is needed.

What maps to what (PyTorch `Linear` weights are `(out, in)` and are transposed;
attention projections are split into `(heads, head_dim)` as Hugging Face's
`view(batch, length, heads, head_dim)` does):

- "bert" / "roberta" -> `Bert`: `vocab_size`, `num_hidden_layers`, `num_attention_heads`,
  `hidden_size`, `intermediate_size`, `max_position_embeddings`, `type_vocab_size` ->
  `num_segments`, `hidden_act` -> `activation`, `layer_norm_eps`, `hidden_dropout_prob` ->
  `dropout`. Weights `embeddings.{word,position,token_type}_embeddings`,
  `embeddings.LayerNorm`, `encoder.layer.<i>.attention.{self.query,self.key,self.value,
  output.dense,output.LayerNorm}`, `intermediate.dense`, `output.dense`,
  `output.LayerNorm`, `pooler.dense` (under any prefix such as "bert." / "roberta.").
  RoBERTa numbers positions from `pad_token_id + 1`: Zoo's position table is the
  checkpoint's from that row on (`max_sequence_length = max_position_embeddings -
  pad_token_id - 1`), which is exact for right-padded inputs (pad tokens only after the
  text, as Zoo's tokenizers pad), as keras-hub's converter. Without `pooler.dense` (a
  masked-LM checkpoint) `pooled_dense` keeps its initialization (with a warning for BERT;
  RoBERTa has no pretrained pooler).
- "gpt2" -> `GPT`: `vocab_size`, `n_layer`, `n_head`, `n_embd`, `n_inner` (None: 4 x
  `n_embd`), `n_positions`, `activation_function`, `layer_norm_epsilon`, `resid_pdrop`.
  Weights `wte`, `wpe`, `h.<i>.{ln_1, attn.c_attn (query|key|value, Conv1D (in, out)),
  attn.c_proj, ln_2, mlp.c_fc, mlp.c_proj}`, `ln_f`; the output projection is tied to
  `wte` (an untied `lm_head` is refused).
- "marian" (opus-mt) -> `Transformer` (post-LN encoder-decoder): `d_model`,
  `encoder_layers`, `decoder_layers`, `{encoder,decoder}_attention_heads` (must be equal),
  `{encoder,decoder}_ffn_dim` (equal), `max_position_embeddings`, `activation_function`
  ("swish" -> "silu"), `vocab_size` / `decoder_vocab_size`,
  `share_encoder_decoder_embeddings`, `tie_word_embeddings`, `dropout`. Marian's
  sinusoids put every sine first and every cosine second (`[sin(p w_0) ... sin(p w_{d/2-1}),
  cos(p w_0) ...]`); Zoo's interleave them (`[sin(p w_0), cos(p w_0), ...]`). The two are
  the same features in another order, and every operation of the model (token embeddings,
  LayerNorm, linear maps, residual sums, the tied output projection) commutes with a fixed
  permutation of the hidden features, so the weights are loaded with their hidden axis
  permuted to Zoo's order and the logits are exactly Marian's. `final_logits_bias`, when
  not zero, becomes the bias of an untied `output_dense` whose kernel is the (permuted)
  output embedding (`tie_embeddings=False`): the outputs are the same, but fine-tuning
  then trains that projection apart from the embeddings. Marian's generation-time rules
  are decoding options, not part of the model: they go into the model's
  `generation_config` (`Transformer(generation_config=...)`), which
  `zoo.models.generation.translate` and the exported `translate` signature use:
  decoding starts from `decoder_start_token_id` (Marian's pad id), never emits
  `pad_token_id` nor a one-token `bad_words_ids` entry (Hugging Face sets their logits
  to -inf), and stops at `eos_token_id`.

Zoo keeps one dropout rate: the checkpoint's main one (`hidden_dropout_prob`,
`resid_pdrop`, `dropout`); separate attention / activation dropout rates and layer drop
only act in training and are not carried over (pass `dropout=` to choose).

Refused, with a ValueError naming the field and its value: an unknown `model_type` or
one for another zoo class; `hidden_act` / `activation_function` outside
gelu / gelu_new / gelu_pytorch_tanh / gelu_fast / relu / silu / swish / tanh;
`position_embedding_type` other than "absolute"; `is_decoder` / `add_cross_attention`
BERT; GPT-2 with `scale_attn_weights=False`, `scale_attn_by_inverse_layer_idx=True` or an
untied `lm_head`; Marian with `scale_embedding=False`, `normalize_before=True`,
`normalize_embedding=True`, `add_final_layer_norm=True`, `static_position_embeddings=False`,
an odd `d_model`, encoder and decoder of different widths, or stored position tables that
are not the sinusoids; and any backbone weight left unmapped.
"""

import contextlib
import json
import math
import os
import warnings

import numpy as np

__all__ = ["ACTIVATIONS", "download", "load"]

# Hugging Face activation names -> zoo `activation` (the same function, not an approximation).
ACTIVATIONS = {
    "gelu": "gelu",  # erf
    "gelu_python": "gelu",
    "gelu_new": "gelu_approximate",  # tanh approximation
    "gelu_pytorch_tanh": "gelu_approximate",
    "gelu_fast": "gelu_approximate",
    "relu": "relu",
    "silu": "silu",
    "swish": "silu",
    "tanh": "tanh",
}
# model_type -> the zoo family that loads it.
FAMILIES = {"bert": "bert", "roberta": "bert", "gpt2": "gpt", "marian": "transformer"}
_CLASSES = {"bert": "Bert", "gpt": "GPT", "transformer": "Transformer"}
# Files "hf://" downloads.
_WEIGHT_FILES = [
    "config.json",
    "model.safetensors",
    "model.safetensors.index.json",
    "model-*.safetensors",
]
# Buffers that are not weights (recomputed by the model).
_BUFFER_SUFFIXES = (
    "position_ids",
    "token_type_ids",
    ".attn.bias",
    ".attn.masked_bias",
)
# Task heads outside the backbone: ignored.
_HEADS = {
    "bert": ("cls.", "lm_head.", "classifier.", "qa_outputs."),
    "gpt": ("lm_head.", "score.", "multiple_choice_head."),
    "transformer": (),
}


# ------------------------------------------------------------------------------ entry points
def download(preset, owner):
    """Download the config and safetensors weights of "hf://org/name"; returns the folder."""
    repo_id = preset[len("hf://") :].strip("/")
    if not repo_id or repo_id.count("/") > 1:
        raise ValueError(
            f"{owner} received preset={preset!r}. Expected 'hf://org/name' (a Hugging Face "
            "model id), e.g. 'hf://Helsinki-NLP/opus-mt-en-de'."
        )
    try:
        import huggingface_hub
    except ImportError as error:
        raise ValueError(
            f"{owner} received preset={preset!r}, a Hugging Face model id, but the package "
            "huggingface_hub is not installed. Run `pip install huggingface_hub`, or download "
            "the checkpoint yourself and pass its local directory."
        ) from error
    try:
        return huggingface_hub.snapshot_download(repo_id=repo_id, allow_patterns=_WEIGHT_FILES)
    except Exception as error:  # network, authentication, unknown repository
        raise ValueError(
            f"{owner} could not download {preset!r} ({type(error).__name__}: {error}). Check "
            "the model id and the network, or pass a local checkpoint directory."
        ) from error


def load(cls, family, path, preset, config=None, **kwargs):
    """`cls` with the config and weights of the Hugging Face checkpoint in `path`."""
    from zoo.models.presets import SUPPORTED_MODEL_TYPES, read_config

    owner = f"{cls.__name__}.from_preset()"
    if config is None:
        config = read_config(path, owner)
    model_type = config.get("model_type")
    if model_type not in FAMILIES:
        raise ValueError(
            f"{owner} found model_type={model_type!r} in the config.json of {preset!r}. Zoo "
            f"maps {sorted(FAMILIES)} ({SUPPORTED_MODEL_TYPES}); other architectures have "
            "layers Zoo does not reproduce."
        )
    if FAMILIES[model_type] != family:
        right = _CLASSES[FAMILIES[model_type]]
        raise ValueError(
            f"{owner} found model_type={model_type!r} in the config.json of {preset!r}: "
            f"that checkpoint is a zoo {right}. Load it with zoo.models.{right}.from_preset."
        )
    mapped = _Config(config, model_type, preset, owner)
    with _Checkpoint(path, preset, owner) as weights:
        loader = {"bert": _bert, "roberta": _bert, "gpt2": _gpt2, "marian": _marian}[model_type]
        model = loader(cls, mapped, weights, kwargs)
        weights.check_all_used(_HEADS[family])
    return model


# ------------------------------------------------------------------------------ config
class _Config:
    """`config.json` fields, read with a ValueError that names a missing or unmappable one."""

    def __init__(self, config, model_type, preset, owner):
        self.config = config
        self.model_type = model_type
        self.preset = preset
        self.owner = owner

    def _error(self, message):
        return ValueError(
            f"{self.owner} cannot load the {self.model_type!r} checkpoint {self.preset!r}: "
            f"{message}"
        )

    def get(self, name, default=None):
        value = self.config.get(name)
        return default if value is None else value

    def required(self, name):
        if self.config.get(name) is None:
            raise self._error(f"its config.json has no `{name}`, which Zoo needs.")
        return self.config[name]

    def expect(self, name, allowed, default, why):
        """The field's value (or `default`), refused unless it is one of `allowed`."""
        value = self.get(name, default)
        if value not in allowed:
            raise self._error(
                f"config field `{name}`={value!r} is not supported ({why}); Zoo reproduces "
                f"{name}={allowed[0]!r}."
            )
        return value

    def activation(self, name, default):
        value = self.get(name, default)
        if value not in ACTIVATIONS:
            raise self._error(
                f"config field `{name}`={value!r} is an activation Zoo does not have. Zoo "
                f"maps {sorted(ACTIVATIONS)}."
            )
        return ACTIVATIONS[value]

    def equal(self, first, second):
        a, b = self.required(first), self.get(second, self.config.get(first))
        if a != b:
            raise self._error(
                f"config fields `{first}`={a!r} and `{second}`={b!r} differ; Zoo's Transformer "
                "has one value for encoder and decoder."
            )
        return a


# ------------------------------------------------------------------------------ weights
class _Checkpoint(contextlib.ExitStack):
    """The tensors of `model.safetensors` (or its shards), as float32 NumPy arrays."""

    def __init__(self, path, preset, owner):
        super().__init__()
        self.owner = owner
        self.preset = preset
        try:
            import safetensors
        except ImportError as error:
            raise ValueError(
                f"{owner} reads Hugging Face weights with the package safetensors, which is "
                "not installed. Run `pip install safetensors`."
            ) from error
        self._safe_open = safetensors.safe_open
        index = os.path.join(path, "model.safetensors.index.json")
        single = os.path.join(path, "model.safetensors")
        if os.path.isfile(single):
            self._files = {None: single}
            self._where = None
        elif os.path.isfile(index):
            with open(index, encoding="utf-8") as f:
                weight_map = json.load(f)["weight_map"]
            self._where = dict(weight_map)
            self._files = {name: os.path.join(path, name) for name in set(weight_map.values())}
        else:
            raise ValueError(
                f"{owner} found no model.safetensors (nor model.safetensors.index.json) in "
                f"{preset!r}. Zoo reads safetensors only (no PyTorch dependency); convert a "
                "pytorch_model.bin with transformers' `save_pretrained(path, "
                "safe_serialization=True)`."
            )
        self._open = {}
        self.used = set()
        self._keys = None

    def _file(self, name):
        if name not in self._open:
            self._open[name] = self.enter_context(self._safe_open(self._files[name], "np"))
        return self._open[name]

    def keys(self):
        if self._keys is None:
            if self._where is not None:
                self._keys = set(self._where)
            else:
                self._keys = set(self._file(None).keys())
        return self._keys

    def has(self, name):
        return name in self.keys()

    def get(self, name):
        if not self.has(name):
            raise ValueError(
                f"{self.owner} found no tensor {name!r} in the weights of {self.preset!r}; "
                "the config.json and the weights do not belong together, or the checkpoint "
                "has another layout."
            )
        self.used.add(name)
        file = self._file(None if self._where is None else self._where[name])
        return np.asarray(file.get_tensor(name)).astype("float32")

    def tied(self, *names):
        """One tensor stored under any of `names` (tied weights, saved once or several
        times); copies under more than one name must be equal."""
        present = [name for name in names if self.has(name)]
        if not present:
            return self.get(names[0])  # the error names the tensor
        value = self.get(present[0])
        for name in present[1:]:
            if not np.array_equal(self.get(name), value):
                raise ValueError(
                    f"{self.owner} found {present[0]!r} and {name!r} in {self.preset!r} with "
                    "different values, where its config.json ties them; Zoo cannot load both."
                )
        return value

    def prefix(self, suffix):
        """The prefix of the tensor named `...suffix` ("bert.", "model.", "" ...)."""
        matches = sorted(
            key[: -len(suffix)]
            for key in self.keys()
            if key == suffix or (key.endswith(suffix) and key[-len(suffix) - 1] == ".")
        )
        if not matches:
            raise ValueError(
                f"{self.owner} found no tensor named '...{suffix}' in the weights of "
                f"{self.preset!r}; its layout is not the one its config.json's model_type has."
            )
        return min(matches, key=len)

    def check_all_used(self, heads):
        left = sorted(
            key
            for key in self.keys() - self.used
            if not key.endswith(_BUFFER_SUFFIXES) and not key.startswith(heads)
        )
        if left:
            raise ValueError(
                f"{self.owner} could not map {len(left)} weight(s) of {self.preset!r} to the "
                f"zoo model: {left[:6]}. The checkpoint has layers Zoo does not reproduce."
            )


def _put(variable, value, name):
    """Assign `value` to `variable`, reshaping only a same-size value; shapes checked."""
    shape = tuple(variable.shape)
    if value.shape != shape and value.size == math.prod(shape):
        value = value.reshape(shape)
    if value.shape != shape:
        raise ValueError(
            f"Cannot load {name!r}: the checkpoint's shape {value.shape} does not fit the zoo "
            f"variable {variable.path!r} of shape {shape}. A keyword argument of from_preset "
            "changed a size, or the config.json and the weights disagree."
        )
    variable.assign(value)


def _build(cls, config, kwargs):
    return cls(**{**config, **kwargs})


def _linear(dense, weights, name, rows=None, columns=None):
    """A PyTorch `Linear` `name` (`weight` `(out, in)`, `bias`) into a Dense / EinsumDense.

    `rows` permutes the input features, `columns` the output features (Marian).
    """
    kernel = weights.get(f"{name}.weight").T  # (in, out)
    bias = weights.get(f"{name}.bias")
    if rows is not None:
        kernel = kernel[rows]
    if columns is not None:
        kernel, bias = kernel[:, columns], bias[columns]
    _put(dense.kernel, kernel, f"{name}.weight")
    _put(dense.bias, bias, f"{name}.bias")


def _layer_norm(layer, weights, name, permutation=None):
    gamma, beta = ("weight", "bias") if weights.has(f"{name}.weight") else ("gamma", "beta")
    for variable, field in ((layer.gamma, gamma), (layer.beta, beta)):
        value = weights.get(f"{name}.{field}")
        _put(variable, value if permutation is None else value[permutation], f"{name}.{field}")


def _attention(attention, weights, names, rows=None, columns=None):
    """q / k / v / output `Linear`s into a zoo `MultiHeadAttention`."""
    query, key, value, output = names
    for dense, name in (
        (attention._query_dense, query),
        (attention._key_dense, key),
        (attention._value_dense, value),
    ):
        _linear(dense, weights, name, rows=rows)
    _linear(attention._output_dense, weights, output, columns=columns)


# ------------------------------------------------------------------------------ BERT, RoBERTa
def _bert(cls, config, weights, kwargs):
    config.expect(
        "position_embedding_type",
        ("absolute",),
        "absolute",
        "Zoo's BERT has learned absolute positions only",
    )
    config.expect("is_decoder", (False,), False, "Zoo's BERT is an encoder")
    config.expect("add_cross_attention", (False,), False, "Zoo's BERT has no cross-attention")
    roberta = config.model_type == "roberta"
    offset = config.get("pad_token_id", 1) + 1 if roberta else 0
    model = _build(
        cls,
        {
            "vocabulary_size": config.required("vocab_size"),
            "num_layers": config.required("num_hidden_layers"),
            "num_heads": config.required("num_attention_heads"),
            "hidden_dim": config.required("hidden_size"),
            "intermediate_dim": config.required("intermediate_size"),
            "dropout": config.get("hidden_dropout_prob", 0.1),
            "max_sequence_length": config.required("max_position_embeddings") - offset,
            "num_segments": config.get("type_vocab_size", 2),
            "activation": config.activation("hidden_act", "gelu"),
            "layer_norm_epsilon": config.get("layer_norm_eps", 1e-12),
        },
        kwargs,
    )
    p = weights.prefix("embeddings.word_embeddings.weight")
    embeddings = model.embeddings
    _put(
        embeddings.embeddings,
        weights.get(f"{p}embeddings.word_embeddings.weight"),
        "word_embeddings",
    )
    positions = weights.get(f"{p}embeddings.position_embeddings.weight")[offset:]
    _put(
        embeddings._position_embedding.position_embeddings,
        positions,
        "embeddings.position_embeddings.weight",
    )
    _put(
        embeddings._segment_embedding.embeddings,
        weights.get(f"{p}embeddings.token_type_embeddings.weight"),
        "embeddings.token_type_embeddings.weight",
    )
    _layer_norm(embeddings._layer_norm, weights, f"{p}embeddings.LayerNorm")
    for i, block in enumerate(model.transformer_layers):
        layer = f"{p}encoder.layer.{i}."
        _attention(
            block._self_attention_layer,
            weights,
            [f"{layer}attention.self.{n}" for n in ("query", "key", "value")]
            + [f"{layer}attention.output.dense"],
        )
        _layer_norm(block._self_attention_layer_norm, weights, f"{layer}attention.output.LayerNorm")
        _linear(block._feed_forward._intermediate_dense, weights, f"{layer}intermediate.dense")
        _linear(block._feed_forward._output_dense, weights, f"{layer}output.dense")
        _layer_norm(block._feed_forward_layer_norm, weights, f"{layer}output.LayerNorm")
    if weights.has(f"{p}pooler.dense.weight"):
        _linear(model.pooled_dense, weights, f"{p}pooler.dense")
    elif not roberta:
        warnings.warn(
            f"{config.preset!r} has no pooler (pooler.dense), e.g. a masked-LM checkpoint: "
            "the zoo model's pooled_dense keeps its random initialization, so pooled_output "
            "is untrained until fine-tuned.",
            stacklevel=5,
        )
    return model


# ------------------------------------------------------------------------------ GPT-2
def _gpt2(cls, config, weights, kwargs):
    config.expect("scale_attn_weights", (True,), True, "Zoo scales scores by 1/sqrt(head_dim)")
    config.expect(
        "scale_attn_by_inverse_layer_idx", (False,), False, "Zoo's attention has no per-layer scale"
    )
    config.expect("add_cross_attention", (False,), False, "Zoo's GPT has no cross-attention")
    config.expect(
        "tie_word_embeddings", (True,), True, "Zoo's GPT ties the output to the token embeddings"
    )
    hidden_dim = config.required("n_embd")
    model = _build(
        cls,
        {
            "vocabulary_size": config.required("vocab_size"),
            "num_layers": config.required("n_layer"),
            "num_heads": config.required("n_head"),
            "hidden_dim": hidden_dim,
            "intermediate_dim": config.get("n_inner", 4 * hidden_dim),
            "dropout": config.get("resid_pdrop", 0.1),
            "max_sequence_length": config.required("n_positions"),
            "activation": config.activation("activation_function", "gelu_new"),
            "layer_norm_epsilon": config.get("layer_norm_epsilon", 1e-5),
        },
        kwargs,
    )
    p = weights.prefix("wte.weight")
    embeddings = model.embeddings
    token_embeddings = weights.get(f"{p}wte.weight")
    _put(embeddings.embeddings, token_embeddings, "wte.weight")
    _put(
        embeddings._position_embedding.position_embeddings,
        weights.get(f"{p}wpe.weight"),
        "wpe.weight",
    )
    if weights.has("lm_head.weight") and not np.array_equal(
        weights.get("lm_head.weight"), token_embeddings
    ):
        raise config._error(
            "its lm_head.weight differs from wte.weight (an untied output projection); Zoo's "
            "GPT ties the output projection to the token embeddings."
        )
    for i, block in enumerate(model.transformer_layers):
        layer = f"{p}h.{i}."
        attention = block._self_attention_layer
        # Conv1D: weight (in, out); c_attn's out is [query | key | value].
        qkv_kernel = weights.get(f"{layer}attn.c_attn.weight")
        qkv_bias = weights.get(f"{layer}attn.c_attn.bias")
        for j, dense in enumerate(
            (attention._query_dense, attention._key_dense, attention._value_dense)
        ):
            part = slice(j * hidden_dim, (j + 1) * hidden_dim)
            _put(dense.kernel, qkv_kernel[:, part], f"{layer}attn.c_attn.weight[{j}]")
            _put(dense.bias, qkv_bias[part], f"{layer}attn.c_attn.bias[{j}]")
        for dense, name in (
            (attention._output_dense, "attn.c_proj"),
            (block._feed_forward._intermediate_dense, "mlp.c_fc"),
            (block._feed_forward._output_dense, "mlp.c_proj"),
        ):
            _put(dense.kernel, weights.get(f"{layer}{name}.weight"), f"{layer}{name}.weight")
            _put(dense.bias, weights.get(f"{layer}{name}.bias"), f"{layer}{name}.bias")
        _layer_norm(block._self_attention_layer_norm, weights, f"{layer}ln_1")
        _layer_norm(block._feed_forward_layer_norm, weights, f"{layer}ln_2")
    _layer_norm(model.layer_norm, weights, f"{p}ln_f")
    return model


# ------------------------------------------------------------------------------ Marian
def marian_sinusoids(length, dim):
    """Marian's position table `(length, dim)`: sines in the first half, cosines after."""
    positions = np.arange(length, dtype="float64")[:, None]
    rates = np.power(10000.0, -2.0 * np.arange(dim // 2, dtype="float64") / dim)[None, :]
    angles = positions * rates  # (length, dim / 2)
    return np.concatenate([np.sin(angles), np.cos(angles)], axis=1)


def zoo_order(dim):
    """`order[k]`: the Marian feature at zoo feature `k` (zoo interleaves sin / cos)."""
    order = np.empty(dim, dtype="int64")
    order[0::2] = np.arange(dim // 2)  # sin(p w_i): zoo 2i, Marian i
    order[1::2] = dim // 2 + np.arange(dim // 2)  # cos(p w_i): zoo 2i + 1, Marian d/2 + i
    return order


def marian_generation_config(config):
    """Marian's decoding settings as `GenerationConfig` fields (see the module docstring)."""
    pad = config.get("pad_token_id", 0)
    suppressed = {pad}
    for words in config.get("bad_words_ids") or ():
        if isinstance(words, (list, tuple)) and len(words) == 1:
            suppressed.add(words[0])
    settings = {
        "bos_token_id": config.get("decoder_start_token_id", pad),
        "end_token_id": config.get("eos_token_id", 0),
        "pad_token_id": pad,
        "suppressed_token_ids": sorted(suppressed),
    }
    for name, value in settings.items():
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values):
            raise config._error(f"its token id setting {name}={value!r} is not a non-negative int.")
    return settings


def _marian(cls, config, weights, kwargs):
    config.expect("scale_embedding", (True,), False, "Zoo multiplies embeddings by sqrt(d_model)")
    for name in ("normalize_before", "normalize_embedding", "add_final_layer_norm"):
        config.expect(name, (False,), False, "Zoo's Transformer is post-LN with no extra LayerNorm")
    config.expect(
        "static_position_embeddings", (True,), True, "Zoo's Transformer has sinusoidal positions"
    )
    hidden_dim = config.required("d_model")
    if hidden_dim % 2:
        raise config._error(
            f"config field `d_model`={hidden_dim} is odd; Zoo's sinusoids pair every sine "
            "with a cosine, which needs an even width."
        )
    source_size = config.required("vocab_size")
    target_size = config.get("decoder_vocab_size", source_size)
    shared = bool(config.get("share_encoder_decoder_embeddings", True))
    if shared and source_size != target_size:
        raise config._error(
            f"config fields `vocab_size`={source_size} and `decoder_vocab_size`={target_size} "
            "differ, but `share_encoder_decoder_embeddings` is true."
        )
    tied = bool(config.get("tie_word_embeddings", True))
    p = weights.prefix("encoder.layers.0.fc1.weight")
    bias = (
        weights.get("final_logits_bias").reshape(-1) if weights.has("final_logits_bias") else None
    )
    untie = not tied or (bias is not None and np.any(bias))
    arguments = {
        "num_encoder_layers": config.required("encoder_layers"),
        "num_decoder_layers": config.required("decoder_layers"),
        "num_heads": config.equal("encoder_attention_heads", "decoder_attention_heads"),
        "hidden_dim": hidden_dim,
        "intermediate_dim": config.equal("encoder_ffn_dim", "decoder_ffn_dim"),
        "dropout": config.get("dropout", 0.1),
        "max_sequence_length": config.get("max_position_embeddings", 1024),
        "tie_embeddings": not untie,
        "activation": config.activation("activation_function", "gelu"),
        "layer_norm_epsilon": 1e-5,  # torch.nn.LayerNorm's default, which Marian keeps
        "normalize_first": False,
        "generation_config": marian_generation_config(config),
    }
    if shared:
        arguments["vocabulary_size"] = source_size
    else:
        arguments.update(
            source_vocabulary_size=source_size,
            target_vocabulary_size=target_size,
            share_embeddings=False,
        )
    model = _build(cls, arguments, kwargs)
    order = zoo_order(hidden_dim)

    for side in ("encoder", "decoder"):
        name = f"{p}{side}.embed_positions.weight"
        if weights.has(name):
            table = weights.get(name)
            expected = marian_sinusoids(table.shape[0], hidden_dim)
            if table.shape[1] != hidden_dim or not np.allclose(table, expected, atol=1e-4):
                raise config._error(
                    f"its {name} is not Marian's sinusoidal table; Zoo's Transformer has fixed "
                    "sinusoidal positions only."
                )

    # Token embeddings; tied weights are stored under one of their names.
    source_names = [f"{p}encoder.embed_tokens.weight", f"{p}shared.weight"]
    target_names = [f"{p}decoder.embed_tokens.weight"]
    if shared:
        source_names += [f"{p}decoder.embed_tokens.weight"]
        target_names += [f"{p}shared.weight", f"{p}encoder.embed_tokens.weight"]
    if tied:
        source_names += ["lm_head.weight"] if shared else []
        target_names += ["lm_head.weight"]
    source = weights.tied(*source_names)[:, order]
    target = source if shared else weights.tied(*target_names)[:, order]
    _put(model.encoder_embedding.embeddings, source, "encoder.embed_tokens.weight")
    if not shared:
        _put(model.decoder_embedding.embeddings, target, "decoder.embed_tokens.weight")
    if untie:
        output = target if tied else weights.get("lm_head.weight")[:, order]
        _put(model.output_dense.kernel, output.T, "lm_head.weight")
        _put(
            model.output_dense.bias,
            np.zeros(target_size, "float32") if bias is None else bias,
            "final_logits_bias",
        )
    elif model.output_dense is None and bias is not None and np.any(bias):
        raise config._error("final_logits_bias is not zero, so tie_embeddings=True would drop it.")

    def block(layer, prefix, attentions):
        for attention, layer_norm, name in attentions:
            _attention(
                attention,
                weights,
                [f"{prefix}{name}.{n}_proj" for n in ("q", "k", "v", "out")],
                rows=order,
                columns=order,
            )
            _layer_norm(layer_norm, weights, f"{prefix}{name}_layer_norm", order)
        feed_forward = layer._feed_forward
        _linear(feed_forward._intermediate_dense, weights, f"{prefix}fc1", rows=order)
        _linear(feed_forward._output_dense, weights, f"{prefix}fc2", columns=order)
        _layer_norm(layer._feed_forward_layer_norm, weights, f"{prefix}final_layer_norm", order)

    for i, layer in enumerate(model.encoder_layers):
        block(
            layer,
            f"{p}encoder.layers.{i}.",
            [(layer._self_attention_layer, layer._self_attention_layer_norm, "self_attn")],
        )
    for i, layer in enumerate(model.decoder_layers):
        block(
            layer,
            f"{p}decoder.layers.{i}.",
            [
                (layer._self_attention_layer, layer._self_attention_layer_norm, "self_attn"),
                (layer._cross_attention_layer, layer._cross_attention_layer_norm, "encoder_attn"),
            ],
        )
    for name in (f"{p}encoder.embed_positions.weight", f"{p}decoder.embed_positions.weight"):
        weights.used.add(name)  # checked above; Zoo computes them
    return model
