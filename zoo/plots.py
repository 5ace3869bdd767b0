"""Attention heatmaps: every layer and head of a zoo model, tokens as tick labels.

The lecture shows multi-head attention as pictures: for one sentence, a grid of
query x key matrices, one per head, where row `i` is the softmax distribution of query
token `i` over the keys. This module computes those matrices for any zoo model and
draws them.

- `attention_weights(model, tokenizer, text)` runs the model on one sentence, block by
  block, and asks each block for its attention probabilities
  (`block(..., return_attention_scores=True)`): those its `MultiHeadAttention` layers
  compute on the input the block gives them (after the LayerNorm for pre-LN blocks,
  with the padding and causal masks). It returns
  `{kind: {"weights": {layer: (heads, query, key)}, "query_tokens": [...],
  "key_tokens": [...]}}` with numpy arrays. Kinds:
  `zoo.models.Transformer`: `encoder_self_attention`, `decoder_self_attention`,
  `cross_attention` (the decoder side is the model's own greedy translation);
  `Bert` (or a task holding one): `self_attention`; `GPT`: `causal_self_attention`.
- `plot_attention(weights, query_tokens, key_tokens, path)` writes one PNG of one
  layer: a grid of heads.
- `plot_model_attention(model, tokenizer, text, directory)` writes one PNG per
  (kind, layer), `<kind>_layer_<i>.png`, and returns the paths.
- `attention_figure(...)` is the `matplotlib.figure.Figure` behind `plot_attention`:
  a colour bar for the probabilities, `layout="constrained"` so no tick label is cut off,
  SentencePiece's word-start marker `▁` drawn as `␣` (DejaVu Sans has both glyphs, but
  `▁` is a one-pixel line at the baseline at tick-label sizes).
- `plot_pca(words, vectors, path, groups=None)` writes the 2-D PCA picture of word
  vectors (`python -m recipes word2vec`'s `pca.png`): one colour and legend entry per
  group (default: one per script, Russian / English), labels placed by
  `place_labels` so that no two overlap, with a leader line to labels that had to move
  away from their point. `pca_figure(...)` returns the figure.

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

__all__ = [
    "attention_figure",
    "attention_weights",
    "pca_2d",
    "pca_figure",
    "place_labels",
    "plot_attention",
    "plot_model_attention",
    "plot_pca",
    "script_groups",
    "token_labels",
]

FONT_FAMILY = "DejaVu Sans"  # ships with matplotlib; has Latin, Cyrillic and Greek glyphs
_MAX_HEAD_COLUMNS = 4
# SentencePiece's word-start marker (U+2581) and what heatmaps draw for it: U+2423 OPEN BOX,
# the usual "visible space" sign, which DejaVu Sans draws at full x-height.
SENTENCEPIECE_MARKER = "\u2581"
VISIBLE_SPACE = "\u2423"


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
        x, scores = block(
            x, padding_mask=source_mask, return_attention_scores=True, training=False
        )  # (1, source, hidden), (1, heads, source, source)
        encoder[index] = _to_numpy(scores, len(source_ids), len(source_ids))
    if model.encoder_layer_norm is not None:
        x = model.encoder_layer_norm(x)
    encoder_output = x  # (1, source, hidden)

    x = model.decoder_embedding(target_row, training=False)  # (1, target, hidden)
    for index, block in enumerate(model.decoder_layers):
        x, scores = block(
            x,
            encoder_output,
            decoder_padding_mask=target_mask,
            encoder_padding_mask=source_mask,
            return_attention_scores=True,
            training=False,
        )  # (1, target, hidden), {"self_attention": ..., "cross_attention": ...}
        decoder[index] = _to_numpy(scores["self_attention"], len(target_ids), len(target_ids))
        cross[index] = _to_numpy(scores["cross_attention"], len(target_ids), len(source_ids))

    source_tokens = token_labels(tokenizer, source_ids)
    target_tokens = token_labels(tokenizer, target_ids)
    translation = np.asarray(
        tokenizer.detokenize(np.asarray([target_ids[1:]], "int32"), errors="replace")
    )[0]
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
            x, scores = block(x, padding_mask=mask, return_attention_scores=True, training=False)
            weights[index] = _to_numpy(scores, len(ids), len(ids))
        name = "self_attention"
    else:
        x = model.embeddings(row, training=False)  # (1, sequence, hidden)
        for index, block in enumerate(model.transformer_layers):
            x, scores = block(
                x, decoder_padding_mask=mask, return_attention_scores=True, training=False
            )  # causal self-attention
            weights[index] = _to_numpy(scores["self_attention"], len(ids), len(ids))
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


def display_token(token):
    """A tick label for `token`: SentencePiece's `▁` becomes a visible `␣`; empty is `∅`."""
    token = str(token).replace(SENTENCEPIECE_MARKER, VISIBLE_SPACE)
    return token if token.strip() else (VISIBLE_SPACE * len(token) or "\u2205")


def _check_attention_inputs(weights, query_tokens, key_tokens):
    weights = np.asarray(weights, dtype="float32")
    if weights.ndim == 2:
        weights = weights[np.newaxis]
    if weights.ndim != 3:
        raise ValueError(
            f"plot_attention() received weights of shape {weights.shape}. Expected "
            "(heads, query, key) or (query, key)."
        )
    _, queries, keys = weights.shape
    if len(query_tokens) != queries or len(key_tokens) != keys:
        raise ValueError(
            f"plot_attention() received weights for {queries} queries x {keys} keys but "
            f"{len(query_tokens)} query tokens and {len(key_tokens)} key tokens. Pass one "
            "label per row and per column."
        )
    return weights


def attention_figure(weights, query_tokens, key_tokens, title=None, dpi=100):
    """The figure `plot_attention` writes: one heatmap per head and a shared colour bar.

    The layout is `constrained`, so tick labels, head titles, the colour bar and the
    (wrapped) title all lie inside the figure. Arguments as `plot_attention`.

    Returns:
        A `matplotlib.figure.Figure` with an Agg canvas.
    """
    import textwrap

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    weights = _check_attention_inputs(weights, query_tokens, key_tokens)
    heads, queries, keys = weights.shape
    query_labels = [display_token(t) for t in query_tokens]
    key_labels = [display_token(t) for t in key_tokens]
    columns = min(heads, _MAX_HEAD_COLUMNS)
    rows = math.ceil(heads / columns)
    cell = 0.32  # inches per token
    char = 0.075  # inches per character of an 8-point tick label
    query_margin = 0.3 + char * max(map(len, query_labels), default=1)
    key_margin = 0.3 + char * max(map(len, key_labels), default=1)
    width = max(columns * (0.4 + query_margin + cell * keys) + 1.0, 3.5)  # + colour bar
    title_lines = textwrap.wrap(title, max(20, int(width * 72 / (11 * 0.62)))) if title else []
    height = rows * (0.7 + key_margin + cell * queries) + 0.25 * len(title_lines)
    figure = Figure(figsize=(width, max(height, 2.5)), dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    with _font_context():
        axes = figure.subplots(rows, columns, squeeze=False)
        image = None
        for head in range(rows * columns):
            ax = axes[head // columns][head % columns]
            if head >= heads:
                ax.set_axis_off()
                continue
            image = ax.imshow(weights[head], cmap="viridis", vmin=0.0, vmax=1.0, aspect="equal")
            ax.set_title(f"head {head}", fontsize=9)
            ax.set_xticks(range(keys))
            ax.set_xticklabels(key_labels, rotation=90, fontsize=8)
            ax.set_yticks(range(queries))
            ax.set_yticklabels(query_labels, fontsize=8)
            ax.set_xlabel("key", fontsize=8)
            ax.set_ylabel("query", fontsize=8)
        colorbar = figure.colorbar(image, ax=axes.ravel().tolist(), shrink=0.9, aspect=30)
        colorbar.set_label("attention probability", fontsize=8)
        colorbar.ax.tick_params(labelsize=8)
        if title_lines:
            figure.suptitle("\n".join(title_lines), fontsize=11)
    return figure


def plot_attention(weights, query_tokens, key_tokens, path, title=None, dpi=100):
    """Write one PNG: a grid of heatmaps, one per head, tokens as tick labels, a colour bar.

    Args:
        weights: `(heads, query, key)` (or one head `(query, key)`) probabilities.
        query_tokens: labels of the rows (`query` of them).
        key_tokens: labels of the columns (`key` of them). SentencePiece's `▁` is drawn
            as `␣`.
        path: the `.png` file to write (its directory is created).
        title: figure title (wrapped to the figure's width).
        dpi: resolution.

    Returns:
        `path`.
    """
    figure = attention_figure(weights, query_tokens, key_tokens, title=title, dpi=dpi)
    _save(figure, path)
    return path


def _save(figure, path):
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    with _font_context():
        figure.savefig(path, format="png")


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
# Word vectors: 2-D PCA with labels that do not overlap
# ---------------------------------------------------------------------------------------------

_SCRIPTS = (("Russian", "\u0400", "\u04ff"), ("English", "a", "z"))
_GROUP_COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown")
_GROUP_MARKERS = ("o", "s", "^", "D", "v", "P")


def pca_2d(vectors):
    """2-D PCA of row vectors with numpy's SVD: `(count, 2)` coordinates.

    The sign of each component is fixed (its largest coordinate is positive), so the same
    vectors always give the same picture.
    """
    vectors = np.asarray(vectors, dtype="float64")
    centered = vectors - vectors.mean(axis=0, keepdims=True)
    _, _, components = np.linalg.svd(centered, full_matrices=False)
    points = centered @ components[:2].T
    if points.shape[1] < 2:  # one-dimensional vectors: the second coordinate is 0
        points = np.pad(points, ((0, 0), (0, 2 - points.shape[1])))
    for column in range(2):
        largest = np.argmax(np.abs(points[:, column])) if len(points) else 0
        if len(points) and points[largest, column] < 0:
            points[:, column] *= -1
    return points


def script_groups(words):
    """One group name per word by its letters: `"Russian"` (Cyrillic), `"English"` (a-z), else
    `"other"`."""
    groups = []
    for word in words:
        letters = [c for c in str(word).lower() if c.isalpha()]
        name = "other"
        for script, low, high in _SCRIPTS:
            if letters and sum(low <= c <= high for c in letters) * 2 > len(letters):
                name = script
                break
        groups.append(name)
    return groups


def _group_names(words, groups):
    """`groups` (None, one name per word, or `{name: words}`) as one name per word."""
    if groups is None:
        return script_groups(words)
    if isinstance(groups, dict):
        of_word = {str(word): str(name) for name, members in groups.items() for word in members}
        missing = [word for word in words if str(word) not in of_word]
        if missing:
            raise ValueError(
                f"plot_pca() received groups for {sorted(of_word)} but not for {missing}. "
                "Put every plotted word in one group, or pass groups=None (one group per "
                "script)."
            )
        return [of_word[str(word)] for word in words]
    names = [str(name) for name in groups]
    if len(names) != len(words):
        raise ValueError(
            f"plot_pca() received {len(names)} group names for {len(words)} words. Pass one "
            "group name per word, a {group: [words]} dict, or None."
        )
    return names


def _boxes_intersect(a, b, pad=0.0):
    """Boxes `(x0, y0, x1, y1)` in pixels that overlap (or come closer than `pad`)."""
    return a[0] < b[2] + pad and b[0] < a[2] + pad and a[1] < b[3] + pad and b[1] < a[3] + pad


def _inside(box, frame):
    return box[0] >= frame[0] and box[1] >= frame[1] and box[2] <= frame[2] and box[3] <= frame[3]


def _candidate_offsets(width, height, point_radius, gap, step, rings):
    """Label-centre offsets around a point, nearest first: 16 directions on growing rings.

    On ring `k` the box edge facing the point is `point_radius + gap + k * step` pixels
    away from it; directions go right, upper right, up, ... (labels read best beside
    their point).
    """
    angles = [0, 90, 180, 270, 45, 135, 225, 315, 22.5, 67.5, 112.5, 157.5, 202.5, 247.5,
              292.5, 337.5]  # fmt: skip
    for ring in range(rings):
        distance = point_radius + gap + ring * step
        for angle in angles:
            cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
            # Scale the direction so the box edge (not its centre) is `distance` away.
            scale = min(
                (width / 2 + distance) / abs(cos) if abs(cos) > 1e-9 else math.inf,
                (height / 2 + distance) / abs(sin) if abs(sin) > 1e-9 else math.inf,
            )
            yield ring, cos * scale, sin * scale


def place_labels(axes, points, labels, fontsize=10, color="black", point_radius=4.0, gap=2.0,
                 leader_color="0.45"):  # fmt: skip
    """Draw `labels` next to `points` (data coordinates) on `axes` so that no two overlap.

    A deterministic greedy search in pixels: labels in crowded places go first; each takes
    the nearest free spot around its point (16 directions on rings 4 pixels apart) that
    lies inside the axes, overlaps no placed label and covers no point. A label that had
    to move further than its first ring gets a thin leader line to its point. The figure's
    layout must be final (the function freezes it) because positions are computed in
    pixels.

    Args:
        axes: a matplotlib `Axes` whose limits are set.
        points: `(count, 2)` data coordinates.
        labels: `count` strings.
        fontsize, color: of the labels (`color`: one colour, or a list of one per label).
        point_radius: pixels around each point that no label covers.
        gap: pixels between a label and its point, and between two labels.
        leader_color: colour of the leader lines.

    Returns:
        The list of `matplotlib.text.Text` labels, in the order of `labels`.
    """
    points = np.asarray(points, dtype="float64").reshape(-1, 2)
    if len(points) != len(labels):
        raise ValueError(
            f"place_labels() received {len(points)} points and {len(labels)} labels. Pass one "
            "label per point."
        )
    figure = axes.figure
    colors = list(color) if isinstance(color, list) else [color] * len(labels)
    # Freeze the layout: a layout engine would move the axes after the labels are placed.
    figure.draw_without_rendering()
    figure.set_layout_engine("none")
    axes.set_xlim(axes.get_xlim())
    axes.set_ylim(axes.get_ylim())
    renderer = figure.canvas.get_renderer()
    frame = axes.get_window_extent(renderer).extents  # (x0, y0, x1, y1) pixels
    frame = (frame[0] + 1, frame[1] + 1, frame[2] - 1, frame[3] - 1)
    pixels = axes.transData.transform(points) if len(points) else np.zeros((0, 2))
    texts = [
        axes.text(x, y, str(label), fontsize=fontsize, color=c, ha="center", va="center", zorder=4)
        for (x, y), label, c in zip(points, labels, colors)
    ]
    sizes = [text.get_window_extent(renderer).size for text in texts]
    point_boxes = [
        (x - point_radius, y - point_radius, x + point_radius, y + point_radius) for x, y in pixels
    ]
    # Crowded points first: they have the fewest free spots near them.
    if len(pixels):
        distances = np.linalg.norm(pixels[:, None, :] - pixels[None, :, :], axis=-1)
        crowding = (distances < 60).sum(axis=1)
    else:
        crowding = np.zeros(0)
    order = sorted(range(len(texts)), key=lambda i: (-crowding[i], i))
    diagonal = math.hypot(frame[2] - frame[0], frame[3] - frame[1])
    step = 4.0
    rings = max(2, int(diagonal / step))
    placed = []
    inverse = axes.transData.inverted()
    segments = []  # leader lines drawn so far, in pixels
    for index in order:
        (width, height), (px, py) = sizes[index], pixels[index]
        best, best_score = None, None
        for ring, dx, dy in _candidate_offsets(width, height, point_radius, gap, step, rings):
            cx, cy = px + dx, py + dy
            box = (cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2)
            if not _inside(box, frame) or any(_boxes_intersect(box, b, gap) for b in placed):
                continue
            segment = _leader_segment((px, py), box, point_radius) if ring > 1 else None
            crossings = sum(_segment_hits_box(*s, box) for s in segments)
            if segment is not None:
                crossings += sum(_segment_hits_box(*segment, b) for b in placed)
            point_hits = sum(
                _boxes_intersect(box, b) for j, b in enumerate(point_boxes) if j != index
            )
            if segment is not None:  # the line itself should not run through other points
                point_hits += sum(
                    _segment_hits_box(*segment, b) for j, b in enumerate(point_boxes) if j != index
                )
            score = (crossings + point_hits, ring)
            if best_score is None or score < best_score:
                best, best_score = (ring, cx, cy, box, segment), score
            if score[0] == 0:
                break
        if best is None:  # no free spot inside the axes: keep the label beside its point
            cx, cy = px + point_radius + gap + width / 2, py
            box = (cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2)
            best = (0, cx, cy, box, None)
        ring, cx, cy, box, segment = best
        placed.append(box)
        texts[index].set_position(inverse.transform((cx, cy)))
        if segment is not None:
            segments.append(segment)
            start, end = inverse.transform(segment)
            axes.plot(
                [start[0], end[0]], [start[1], end[1]], color=leader_color, linewidth=0.7, zorder=2
            )
    return texts


def _leader_segment(point, box, point_radius):
    """From just outside `point` to the nearest point of `box` (pixels), or `None`."""
    px, py = point
    nx, ny = min(max(px, box[0]), box[2]), min(max(py, box[1]), box[3])
    length = math.hypot(nx - px, ny - py)
    if length <= point_radius:
        return None
    start = (px + (nx - px) * point_radius / length, py + (ny - py) * point_radius / length)
    return start, (nx, ny)


def _segment_hits_box(start, end, box, pad=1.0):
    """Whether the segment `start`-`end` passes through `box` (Liang-Barsky clipping)."""
    (x0, y0), (x1, y1) = start, end
    dx, dy = x1 - x0, y1 - y0
    low, high = 0.0, 1.0
    for p, q in (
        (-dx, x0 - (box[0] - pad)),
        (dx, (box[2] + pad) - x0),
        (-dy, y0 - (box[1] - pad)),
        (dy, (box[3] + pad) - y0),
    ):
        if abs(p) < 1e-12:
            if q < 0:
                return False
            continue
        t = q / p
        if p < 0:
            low = max(low, t)
        else:
            high = min(high, t)
        if low > high:
            return False
    # Touching the label's own box at the end of the segment does not count.
    return high - low > 1e-6 and low < 1.0 - 1e-6


def pca_figure(words, vectors, title=None, groups=None, figsize=(8, 6), dpi=120, fontsize=10):
    """The 2-D PCA picture of word vectors as a matplotlib `Figure` (see `plot_pca`)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    words = [str(word) for word in words]
    vectors = np.asarray(vectors, dtype="float64")
    if vectors.ndim != 2 or len(vectors) != len(words) or len(words) < 2:
        raise ValueError(
            f"plot_pca() received {len(words)} words and vectors of shape {vectors.shape}. "
            "Expected at least 2 words and a (words, dimensions) array with one row per word."
        )
    if not np.all(np.isfinite(vectors)):
        raise ValueError(
            "plot_pca() received vectors with NaN or infinite values. Check the training "
            "(loss) before plotting."
        )
    names = _group_names(words, groups)
    points = pca_2d(vectors)
    figure = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    with _font_context():
        axes = figure.subplots()
        ordered = list(dict.fromkeys(names))  # groups in order of first appearance
        colors = {}
        for number, name in enumerate(ordered):
            colors[name] = _GROUP_COLORS[number % len(_GROUP_COLORS)]
            members = [i for i, n in enumerate(names) if n == name]
            axes.scatter(
                points[members, 0],
                points[members, 1],
                s=30,
                color=colors[name],
                marker=_GROUP_MARKERS[number % len(_GROUP_MARKERS)],
                edgecolors="white",
                linewidths=0.6,
                alpha=0.9,
                label=f"{name} ({len(members)})",
                zorder=3,
            )
        # Room around the points for the labels: half the spread on each side.
        low, high = points.min(axis=0), points.max(axis=0)
        spread = np.maximum(high - low, 1e-6 * max(1.0, float(np.abs(points).max())))
        axes.set_xlim(low[0] - 0.2 * spread[0], high[0] + 0.35 * spread[0])
        axes.set_ylim(low[1] - 0.15 * spread[1], high[1] + 0.15 * spread[1])
        if title:
            axes.set_title(title, fontsize=11, wrap=True)
        axes.set_xlabel("PC 1")
        axes.set_ylabel("PC 2")
        axes.grid(alpha=0.3)
        axes.legend(
            title="words", loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0,
            fontsize=9, title_fontsize=9, frameon=False,
        )  # fmt: skip
        label_colors = [_darker(colors[name]) for name in names]
        place_labels(axes, points, words, fontsize=fontsize, color=label_colors)
    return figure


def _darker(color, amount=0.45):
    """`color` mixed with black: group-coloured labels that still read as text."""
    from matplotlib.colors import to_rgb

    return tuple(channel * (1 - amount) for channel in to_rgb(color))


def plot_pca(words, vectors, path, title=None, groups=None, dpi=120):
    """Write the 2-D PCA picture of word vectors: labelled points, a legend of word groups.

    Labels never overlap (`place_labels`); a label moved away from a crowded point gets a
    leader line.

    Args:
        words: the labels, one per row of `vectors`.
        vectors: `(words, dimensions)` array.
        path: the `.png` file to write (its directory is created).
        title: axes title.
        groups: `None` (one group per script: Russian, English, other), one group name per
            word, or a `{group: [words]}` dict. Each group gets a colour, a marker and a
            legend entry.
        dpi: resolution.

    Returns:
        `path`.

    Example:

    >>> # plot_pca(["брат", "сестра", "brother", "sister"], vectors, "pca.png")
    """
    _save(pca_figure(words, vectors, title=title, groups=groups, dpi=dpi), path)
    return path


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
