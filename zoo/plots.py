"""Attention heatmaps: every layer and head of a zoo model, tokens as tick labels.

The lecture shows multi-head attention as pictures: for one sentence, a grid of
query x key matrices, one per head, where row `i` is the softmax distribution of query
token `i` over the keys. This module computes those matrices for any zoo model and
draws them.

- `attention_weights(model, tokenizer, text)` runs the model on one sentence, block by
  block, and asks each block's `MultiHeadAttention` for its probabilities
  (`return_attention_scores=True`) on exactly the input the block gives it (after the
  LayerNorm for pre-LN blocks, with the padding and causal masks). It returns
  `{kind: {"weights": {layer: (heads, query, key)}, "query_tokens": [...],
  "key_tokens": [...]}}` with numpy arrays. Kinds:
  `zoo.models.Transformer`: `encoder_self_attention`, `decoder_self_attention`,
  `cross_attention` (the decoder side is the model's own greedy translation);
  `Bert` (or a task holding one): `self_attention`; `GPT`: `causal_self_attention`.
- `plot_attention(weights, query_tokens, key_tokens, path)` writes one PNG of one
  layer: a grid of heads.
- `plot_model_attention(model, tokenizer, text, directory)` writes one PNG per
  (kind, layer), `<kind>_layer_<i>.png`, and returns the paths.

Drawing uses matplotlib's Agg canvas directly (no pyplot, no global backend switch)
with DejaVu Sans, which has Cyrillic glyphs.

Command line, on a run directory written by `python -m recipes translation`
(`model.keras`, `tokenizer/`, `config.json`):

    python -m zoo.plots --run runs/translation "Я изучаю машинное обучение"

Example:

>>> # from zoo.plots import plot_model_attention
>>> # paths = plot_model_attention(model, tokenizer, "Я изучаю машинное обучение", "attention")
"""

import argparse
import json
import math
import os
import sys

import numpy as np

__all__ = ["attention_weights", "plot_attention", "plot_model_attention", "token_labels"]

FONT_FAMILY = "DejaVu Sans"  # ships with matplotlib; has Latin, Cyrillic and Greek glyphs
_MAX_HEAD_COLUMNS = 4


# ---------------------------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------------------------


def token_labels(tokenizer, ids):
    """Readable tick labels for `ids`: each token detokenized on its own.

    Special tokens keep their names (`[BOS]`); a token that does not decode to text on
    its own (a lone SentencePiece `▁`, part of a multi-byte character in byte-level BPE)
    falls back to its vocabulary entry.
    """
    import tensorflow as tf

    ids = [int(i) for i in ids]
    if not ids:
        return []
    reserved = set(tokenizer.reserved_tokens)
    pieces = [tokenizer.id_to_token(i) for i in ids]
    ragged = tf.ragged.constant([[i] for i in ids], dtype=tf.int32)
    decoded = [t.decode("utf-8", "replace") for t in np.asarray(tokenizer.detokenize(ragged))]
    labels = []
    for piece, text in zip(pieces, decoded):
        text = text.strip()
        labels.append(piece if piece in reserved or not text or "\ufffd" in text else text)
    return labels


# ---------------------------------------------------------------------------------------------
# Weights
# ---------------------------------------------------------------------------------------------


def _model_kind(model):
    from zoo.models import GPT, Bert, Transformer

    if isinstance(model, Transformer):
        return "transformer", model
    if isinstance(model, GPT):
        return "gpt", model
    if isinstance(model, Bert):
        return "bert", model
    backbone = getattr(model, "backbone", None)
    if isinstance(backbone, Bert):
        return "bert", backbone
    raise ValueError(
        f"attention_weights() received a {type(model).__name__}. Expected a zoo "
        "Transformer, Bert (or a Bert task such as BertPretrainer/BertClassifier) or GPT."
    )


def _attention_layer(block, attribute):
    from zoo.layers.attention import MultiHeadAttention

    layer = getattr(block, attribute, None)
    if not isinstance(layer, MultiHeadAttention):
        raise ValueError(
            f"Block '{block.name}' uses a {type(layer).__name__} for attention, which does not "
            "return attention probabilities. Attention heatmaps need the zoo "
            "MultiHeadAttention (build the model with attention=None)."
        )
    return layer


def _block_attention(block, x, padding_mask, causal, encoder_output=None, encoder_mask=None):
    """Attention probabilities of one block for the block input `x`.

    Returns `(self_scores, cross_scores or None)`, each `(batch, heads, query, key)`, on
    exactly the inputs the block's sublayers receive: pre-LN blocks normalize first; the
    cross-attention query is the self-attention sublayer's output (residual added, then
    post-LN when the block is post-LN). Dropout is off (inference).
    """
    attention = _attention_layer(block, "_self_attention_layer")
    query = block._self_attention_layer_norm(x) if block.normalize_first else x
    extra = {"use_causal_mask": True} if causal else {}
    output, self_scores = attention(
        query, padding_mask=padding_mask, return_attention_scores=True, training=False, **extra
    )  # (batch, query, hidden), (batch, heads, query, key)
    if encoder_output is None:
        return self_scores, None
    hidden = x + output  # the sublayer's dropout is the identity at inference
    if not block.normalize_first:
        hidden = block._self_attention_layer_norm(hidden)
    cross_attention = _attention_layer(block, "_cross_attention_layer")
    query = block._cross_attention_layer_norm(hidden) if block.normalize_first else hidden
    _, cross_scores = cross_attention(
        query,
        value=encoder_output,
        padding_mask=encoder_mask,
        return_attention_scores=True,
        training=False,
    )  # (batch, heads, target, source)
    return self_scores, cross_scores


def _to_numpy(scores, query_length, key_length):
    """(1, heads, query, key) tensor -> float32 (heads, query, key) cropped to real tokens."""
    import keras

    array = keras.ops.convert_to_numpy(keras.ops.cast(scores, "float32"))
    return array[0, :, :query_length, :key_length]


def _padded(ids, length, pad_id):
    """(1, length) int32 ids and their (1, length) padding mask."""
    length = max(length, len(ids))
    row = np.full((1, length), pad_id, dtype="int32")
    row[0, : len(ids)] = ids
    return row, row != pad_id if pad_id is not None else np.ones_like(row, bool)


def _source_ids(tokenizer, text, limit):
    ids = [int(i) for i in np.asarray(tokenizer.tokenize([text]).to_list()[0])]
    if not ids:
        raise ValueError(
            f"The text {text!r} has no tokens. Pass a sentence with at least one word."
        )
    return ids[:limit]


def _translation_ids(model, source_row, source_mask, tokenizer, max_length):
    """The model's greedy translation as decoder input ids `[BOS] t1 ... tn` (no EOS)."""
    from zoo.models.generation import translate

    target = translate(
        model,
        source_row,
        source_mask,
        bos_token_id=tokenizer.bos_token_id,
        end_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        max_length=max_length,
        sampler="greedy",
        jit_compile=False,
    )
    ids = [int(i) for i in np.asarray(target)[0]]
    stops = {tokenizer.eos_token_id, tokenizer.pad_token_id}
    end = next((i for i, token in enumerate(ids[1:], 1) if token in stops), len(ids))
    return ids[:end]


def _transformer_weights(model, tokenizer, text, source_length, target_length):
    limit = model.max_sequence_length
    source_ids = _source_ids(tokenizer, text, min(source_length or limit, limit))
    source_row, source_mask = _padded(source_ids, source_length or 0, tokenizer.pad_token_id)
    target_ids = _translation_ids(
        model, source_row, source_mask, tokenizer, min(target_length or limit, limit)
    )
    target_row, target_mask = _padded(target_ids, target_length or 0, tokenizer.pad_token_id)
    target_mask[0, 0] = True  # [BOS] is a real token even if it shares the padding id

    encoder, decoder, cross = {}, {}, {}
    x = model.encoder_embedding(source_row, training=False)  # (1, source, hidden)
    for index, block in enumerate(model.encoder_layers):
        scores, _ = _block_attention(block, x, source_mask, causal=False)
        encoder[index] = _to_numpy(scores, len(source_ids), len(source_ids))
        x = block(x, padding_mask=source_mask, training=False)
    if model.encoder_layer_norm is not None:
        x = model.encoder_layer_norm(x)
    encoder_output = x  # (1, source, hidden)

    x = model.decoder_embedding(target_row, training=False)  # (1, target, hidden)
    for index, block in enumerate(model.decoder_layers):
        self_scores, cross_scores = _block_attention(
            block, x, target_mask, True, encoder_output, source_mask
        )
        decoder[index] = _to_numpy(self_scores, len(target_ids), len(target_ids))
        cross[index] = _to_numpy(cross_scores, len(target_ids), len(source_ids))
        x = block(
            x,
            encoder_output,
            decoder_padding_mask=target_mask,
            encoder_padding_mask=source_mask,
            training=False,
        )

    source_tokens = token_labels(tokenizer, source_ids)
    target_tokens = token_labels(tokenizer, target_ids)
    translation = np.asarray(tokenizer.detokenize(np.asarray([target_ids[1:]], "int32")))[0]
    return {
        "encoder_self_attention": _kind(encoder, source_tokens, source_tokens),
        "decoder_self_attention": _kind(decoder, target_tokens, target_tokens),
        "cross_attention": _kind(cross, target_tokens, source_tokens),
        "translation": translation.decode("utf-8", "replace"),
    }


def _kind(weights, query_tokens, key_tokens):
    return {"weights": weights, "query_tokens": query_tokens, "key_tokens": key_tokens}


def _single_stack_weights(kind, model, tokenizer, text, sequence_length):
    limit = model.max_sequence_length
    ids = _source_ids(tokenizer, text, limit)
    if kind == "bert" and tokenizer.cls_token_id is not None and tokenizer.sep_token_id is not None:
        ids = [tokenizer.cls_token_id, *ids[: limit - 2], tokenizer.sep_token_id]
    row, mask = _padded(ids, min(sequence_length or 0, limit), tokenizer.pad_token_id)
    mask[0, : len(ids)] = True
    weights = {}
    if kind == "bert":
        x = model.embeddings(row, training=False)  # (1, sequence, hidden)
        for index, block in enumerate(model.transformer_layers):
            scores, _ = _block_attention(block, x, mask, causal=False)
            weights[index] = _to_numpy(scores, len(ids), len(ids))
            x = block(x, padding_mask=mask, training=False)
        name = "self_attention"
    else:
        x = model.embeddings(row, training=False)  # (1, sequence, hidden)
        for index, block in enumerate(model.transformer_layers):
            scores, _ = _block_attention(block, x, mask, causal=True)
            weights[index] = _to_numpy(scores, len(ids), len(ids))
            x = block(x, decoder_padding_mask=mask, training=False)
        name = "causal_self_attention"
    tokens = token_labels(tokenizer, ids)
    return {name: _kind(weights, tokens, tokens)}


def attention_weights(model, tokenizer, text, source_length=None, target_length=None):
    """Attention probabilities of every layer and head of `model` for one sentence.

    Args:
        model: a zoo `Transformer`, `Bert` (or a Bert task) or `GPT`.
        tokenizer: the model's `zoo.text` tokenizer (for a Transformer: the shared
            bilingual one, with `[BOS]`/`[EOS]`).
        text: one sentence (`str`).
        source_length: pad the source (Bert/GPT: the sequence) to this length, as in
            training; `None`: no padding. Longer texts are cut to the model's
            `max_sequence_length`.
        target_length: Transformer: pad the decoder input to this length and translate
            at most this many tokens (default: the model's `max_sequence_length`).

    Returns:
        A dict `{kind: {"weights": {layer: np.ndarray (heads, query, key)},
        "query_tokens": [str], "key_tokens": [str]}}`, cropped to the real tokens. For a
        Transformer the kinds are `encoder_self_attention`, `decoder_self_attention`,
        `cross_attention` (decoder side: `[BOS]` and the greedy translation, which is
        also under `"translation"`); `self_attention` for Bert;
        `causal_self_attention` for GPT.

    Example:

    >>> # weights = attention_weights(transformer, tokenizer, "Я изучаю машинное обучение")
    >>> # weights["cross_attention"]["weights"][0].shape  # (heads, target, source)
    """
    if not isinstance(text, str):
        raise ValueError(
            f"attention_weights() received text={text!r}. Expected one sentence as a str."
        )
    kind, model = _model_kind(model)
    if kind == "transformer":
        return _transformer_weights(model, tokenizer, text, source_length, target_length)
    return _single_stack_weights(kind, model, tokenizer, text, source_length)


# ---------------------------------------------------------------------------------------------
# Drawing
# ---------------------------------------------------------------------------------------------


def plot_attention(weights, query_tokens, key_tokens, path, title=None, dpi=100):
    """Write one PNG: a grid of heatmaps, one per head, tokens as tick labels.

    Args:
        weights: `(heads, query, key)` (or one head `(query, key)`) probabilities.
        query_tokens: labels of the rows (`query` of them).
        key_tokens: labels of the columns (`key` of them).
        path: the `.png` file to write (its directory is created).
        title: figure title.
        dpi: resolution.

    Returns:
        `path`.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    weights = np.asarray(weights, dtype="float32")
    if weights.ndim == 2:
        weights = weights[np.newaxis]
    if weights.ndim != 3:
        raise ValueError(
            f"plot_attention() received weights of shape {weights.shape}. Expected "
            "(heads, query, key) or (query, key)."
        )
    heads, queries, keys = weights.shape
    if len(query_tokens) != queries or len(key_tokens) != keys:
        raise ValueError(
            f"plot_attention() received weights for {queries} queries x {keys} keys but "
            f"{len(query_tokens)} query tokens and {len(key_tokens)} key tokens. Pass one "
            "label per row and per column."
        )
    columns = min(heads, _MAX_HEAD_COLUMNS)
    rows = math.ceil(heads / columns)
    cell = 0.32  # inches per token
    width = columns * (1.6 + cell * keys)
    height = rows * (1.4 + cell * queries) + (0.5 if title else 0)
    figure = Figure(figsize=(max(width, 3.0), max(height, 2.5)), dpi=dpi)
    FigureCanvasAgg(figure)
    with _font_context():
        axes = figure.subplots(rows, columns, squeeze=False)
        for head in range(rows * columns):
            ax = axes[head // columns][head % columns]
            if head >= heads:
                ax.set_axis_off()
                continue
            ax.imshow(weights[head], cmap="viridis", vmin=0.0, vmax=1.0, aspect="equal")
            ax.set_title(f"head {head}", fontsize=9)
            ax.set_xticks(range(keys))
            ax.set_xticklabels(key_tokens, rotation=90, fontsize=8)
            ax.set_yticks(range(queries))
            ax.set_yticklabels(query_tokens, fontsize=8)
        if title:
            figure.suptitle(title, fontsize=11)
        figure.tight_layout()
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
        figure.savefig(path, format="png")
    return path


def _font_context():
    import matplotlib

    return matplotlib.rc_context({"font.family": "sans-serif", "font.sans-serif": [FONT_FAMILY]})


_TITLES = {
    "encoder_self_attention": "encoder self-attention",
    "decoder_self_attention": "decoder self-attention (causal)",
    "cross_attention": "cross-attention (decoder queries, encoder keys)",
    "self_attention": "self-attention",
    "causal_self_attention": "causal self-attention",
}


def plot_model_attention(
    model, tokenizer, text, directory, source_length=None, target_length=None, dpi=100
):
    """Write one PNG per (kind, layer) of `model`'s attention for `text`.

    Args:
        model, tokenizer, text, source_length, target_length: as `attention_weights`.
        directory: where `<kind>_layer_<i>.png` files go (created).
        dpi: resolution.

    Returns:
        The list of written paths.
    """
    maps = attention_weights(model, tokenizer, text, source_length, target_length)
    translation = maps.get("translation")
    paths = []
    for kind, entry in maps.items():
        if kind == "translation":
            continue
        for layer, weights in entry["weights"].items():
            title = f"{_TITLES[kind]}, layer {layer}: {text}"
            if translation is not None:
                title += f" → {translation}"
            path = os.path.join(directory, f"{kind}_layer_{layer}.png")
            plot_attention(
                weights, entry["query_tokens"], entry["key_tokens"], path, title=title, dpi=dpi
            )
            paths.append(path)
    return paths


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------


def _load_run(run, model_path=None, tokenizer_path=None):
    import keras

    import zoo.models  # noqa: F401  (registers the zoo classes for loading)
    from zoo.text import load_tokenizer

    model_path = model_path or os.path.join(run, "model.keras")
    tokenizer_path = tokenizer_path or os.path.join(run, "tokenizer")
    for what, path in (("model", model_path), ("tokenizer", tokenizer_path)):
        if not os.path.exists(path):
            raise ValueError(
                f"No {what} at {path!r}. Pass --run with a directory written by "
                "`python -m recipes translation` (model.keras, tokenizer/), or --model and "
                "--tokenizer."
            )
    config = {}
    config_path = os.path.join(run, "config.json") if run else None
    if config_path and os.path.exists(config_path):
        with open(config_path, encoding="utf-8") as file:
            config = json.load(file)
    model = keras.saving.load_model(model_path)
    return model, load_tokenizer(tokenizer_path), config


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m zoo.plots",
        description="Attention heatmaps (one PNG per kind and layer) of a trained zoo model.",
    )
    parser.add_argument("text", help="the sentence to look at")
    parser.add_argument("--run", default="", help="run directory: model.keras, tokenizer/")
    parser.add_argument("--model", default="", help="a .keras file (instead of --run)")
    parser.add_argument("--tokenizer", default="", help="a saved zoo tokenizer directory")
    parser.add_argument("--out", default="", help="output directory (default: <run>/attention)")
    parser.add_argument("--dpi", type=int, default=100)
    arguments = parser.parse_args(argv)
    if not arguments.run and not (arguments.model and arguments.tokenizer):
        parser.error("pass --run DIR, or --model FILE.keras and --tokenizer DIR")
    model, tokenizer, config = _load_run(arguments.run, arguments.model, arguments.tokenizer)
    out = arguments.out or os.path.join(arguments.run or ".", "attention")
    paths = plot_model_attention(
        model,
        tokenizer,
        arguments.text,
        out,
        source_length=config.get("source_length"),
        target_length=config.get("target_length"),
        dpi=arguments.dpi,
    )
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
