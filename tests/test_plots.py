"""Attention heatmaps: the weights are the model's real attention, the PNGs are written."""

import json
import warnings

import keras
import numpy as np
import pytest

from tests.test_case import tiny_model
from zoo import plots
from zoo.data import corpus
from zoo.layers.attention import MultiHeadAttention
from zoo.models import GPT, Bert, Transformer
from zoo.text import WordTokenizer

SENTENCE = "Я изучаю машинное обучение"


@pytest.fixture(scope="module")
def tokenizer():
    texts = [text for pair in corpus.load_pairs("train")[:400] for text in pair]
    return WordTokenizer.train(texts + [SENTENCE] * 20, vocabulary_size=300, verbose=False)


@pytest.fixture(scope="module")
def transformer(tokenizer):
    return tiny_model(
        Transformer, tokenizer.vocabulary_size(), seed=0, num_layers=2, max_sequence_length=12
    )


@pytest.fixture(scope="module")
def transformer_maps(transformer, tokenizer):
    return plots.attention_weights(
        transformer, tokenizer, SENTENCE, source_length=10, target_length=8
    )


def _record_attention_inputs(model):
    """Wrap every zoo MultiHeadAttention's `call` to record the arguments it receives."""
    records = {}
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, MultiHeadAttention):
            original = layer.call

            def call(query, *args, _layer=layer, _original=original, **kwargs):
                records[_layer.path] = (_layer, query, args, kwargs)
                return _original(query, *args, **kwargs)

            layer.call = call
    return records


def _expected_scores(records, path, query_length, key_length):
    """What the layer returns with return_attention_scores for the recorded input."""
    layer, query, args, kwargs = records[path]
    kwargs = {**kwargs, "return_attention_scores": True, "training": False}
    _, scores = layer.__class__.call(layer, query, *args, **kwargs)
    return keras.ops.convert_to_numpy(scores)[0, :, :query_length, :key_length]


def _check_rows(weights):
    """Each query's probabilities over the (unmasked) keys sum to one."""
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, atol=1e-5)
    assert np.all(weights >= 0)


def test_transformer_weights_are_the_models_attention(transformer, tokenizer, transformer_maps):
    maps = transformer_maps
    source_ids = tokenizer.tokenize([SENTENCE]).to_list()[0]
    encoder = maps["encoder_self_attention"]
    assert encoder["key_tokens"] == ["я", "изучаю", "машинное", "обучение"]
    assert sorted(encoder["weights"]) == [0, 1]
    for kind in ("encoder_self_attention", "decoder_self_attention", "cross_attention"):
        for weights in maps[kind]["weights"].values():
            assert weights.shape == (
                2,
                len(maps[kind]["query_tokens"]),
                len(maps[kind]["key_tokens"]),
            )
            _check_rows(weights)
    target_tokens = maps["decoder_self_attention"]["query_tokens"]
    assert target_tokens[0] == "[BOS]"
    assert maps["cross_attention"]["key_tokens"] == encoder["key_tokens"]
    for weights in maps["decoder_self_attention"]["weights"].values():
        upper = np.triu(np.ones(weights.shape[1:], bool), k=1)
        assert np.all(weights[:, upper] < 1e-6)  # no information from the future

    # Run the whole model on the same padded batch and record what each attention layer
    # received: the plotted weights are what the layer returns for that input.
    source = np.zeros((1, 10), "int32")
    source[0, : len(source_ids)] = source_ids
    target_ids = [tokenizer.token_to_id(t) for t in target_tokens]
    target = np.zeros((1, 8), "int32")
    target[0, : len(target_ids)] = target_ids
    records = _record_attention_inputs(transformer)
    try:
        transformer(
            {
                "encoder_token_ids": source,
                "encoder_padding_mask": source != 0,
                "decoder_token_ids": target,
                "decoder_padding_mask": target != 0,
            }
        )
        for index in range(2):
            path = f"encoder_layer_{index}/self_attention"
            expected = _expected_scores(records, path, 4, 4)
            np.testing.assert_allclose(
                maps["encoder_self_attention"]["weights"][index], expected, atol=1e-5
            )
            path = f"decoder_layer_{index}/cross_attention"
            expected = _expected_scores(records, path, len(target_ids), 4)
            np.testing.assert_allclose(
                maps["cross_attention"]["weights"][index], expected, atol=1e-5
            )
    finally:
        for layer in transformer._flatten_layers(include_self=False):
            layer.__dict__.pop("call", None)


def test_translation_labels_are_the_models_own_greedy_output(
    transformer, tokenizer, transformer_maps
):
    from zoo.models.generation import translate

    maps = transformer_maps
    source = np.asarray(tokenizer.tokenize([SENTENCE], sequence_length=10))
    target = np.asarray(
        translate(
            transformer,
            source,
            source != 0,
            bos_token_id=tokenizer.bos_token_id,
            end_token_id=tokenizer.eos_token_id,
            max_length=8,
            jit_compile=False,
        )
    )[0, 1:]
    ids = [int(i) for i in target if i not in (0, tokenizer.eos_token_id)]
    tokens = maps["decoder_self_attention"]["query_tokens"]
    assert tokens == ["[BOS]"] + [tokenizer.id_to_token(i) for i in ids]
    expected = np.asarray(tokenizer.detokenize(target[np.newaxis]))[0].decode("utf-8")
    assert maps["translation"] == expected


def test_gpt_weights_are_causal_and_pre_ln(tokenizer):
    model = tiny_model(
        GPT, tokenizer.vocabulary_size(), seed=1, num_layers=2, max_sequence_length=10
    )
    maps = plots.attention_weights(model, tokenizer, SENTENCE, source_length=8)
    entry = maps["causal_self_attention"]
    ids = tokenizer.tokenize([SENTENCE]).to_list()[0]
    records = _record_attention_inputs(model)
    try:
        row = np.zeros((1, 8), "int32")
        row[0, : len(ids)] = ids
        model({"token_ids": row, "padding_mask": row != 0})
        for index, weights in entry["weights"].items():
            _check_rows(weights)
            assert np.all(weights[:, np.triu(np.ones((4, 4), bool), k=1)] < 1e-6)
            path = f"transformer_layer_{index}/self_attention"
            np.testing.assert_allclose(weights, _expected_scores(records, path, 4, 4), atol=1e-5)
    finally:
        for layer in model._flatten_layers(include_self=False):
            layer.__dict__.pop("call", None)


def test_bert_weights_hide_padding_and_add_cls_sep(tokenizer):
    model = tiny_model(Bert, tokenizer.vocabulary_size(), seed=2, max_sequence_length=10)
    maps = plots.attention_weights(model, tokenizer, SENTENCE, source_length=10)
    entry = maps["self_attention"]
    assert entry["query_tokens"][0] == "[CLS]" and entry["query_tokens"][-1] == "[SEP]"
    weights = entry["weights"][0]
    assert weights.shape == (2, 6, 6)
    _check_rows(weights)  # cropped to the 6 real tokens, the rows still sum to one
    assert np.any(np.triu(weights[0], k=1) > 1e-3)  # bidirectional


def test_command_line_reads_a_run_directory(transformer, tokenizer, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    transformer.save(run / "model.keras")
    tokenizer.save(str(run / "tokenizer"))
    (run / "config.json").write_text(json.dumps({"source_length": 10, "target_length": 8}))
    assert plots.main(["--run", str(run), SENTENCE]) == 0  # plot_model_attention inside
    written = sorted(p.name for p in (run / "attention").iterdir())
    assert written == sorted(
        f"{kind}_layer_{i}.png"
        for kind in ("encoder_self_attention", "decoder_self_attention", "cross_attention")
        for i in range(2)
    )
    for name in written:
        data = (run / "attention" / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000
    with pytest.raises(ValueError, match="No model"):
        plots.main(["--run", str(tmp_path / "missing"), SENTENCE])


def _glyph_warnings(labels, tmp_path):
    weights = np.full((2, len(labels), len(labels)), 1.0 / len(labels))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plots.plot_attention(weights, labels, labels, str(tmp_path / "plot.png"), title="т")
    return [str(w.message) for w in caught if "missing from" in str(w.message)]


def test_cyrillic_tick_labels_have_glyphs(tmp_path):
    assert _glyph_warnings(["Я", "изучаю", "машинное", "обучение", "ёЁ"], tmp_path) == []
    # The check itself can fail: DejaVu Sans has no CJK glyphs.
    assert _glyph_warnings(["機械", "学習"], tmp_path)


def test_bad_inputs_raise_helpful_errors(transformer, tokenizer, tmp_path):
    with pytest.raises(ValueError, match="Expected a zoo Transformer"):
        plots.attention_weights(keras.Sequential([keras.layers.Dense(2)]), tokenizer, "a")
    with pytest.raises(ValueError, match="one label per row"):
        plots.plot_attention(np.ones((1, 2, 3)), ["a", "b"], ["a"], str(tmp_path / "x.png"))
    with pytest.raises(ValueError, match="no tokens"):
        plots.attention_weights(transformer, tokenizer, "")


# ---------------------------------------------------------------------------------------------
# Readable pictures: a colour bar, tick labels inside the figure, labels that do not overlap
# ---------------------------------------------------------------------------------------------


def _extent(artist, renderer):
    box = artist.get_window_extent(renderer)
    return box.x0, box.y0, box.x1, box.y1


def _inside_figure(box, figure):
    frame = figure.bbox
    return (
        box[0] >= frame.x0 - 0.5
        and box[1] >= frame.y0 - 0.5
        and box[2] <= frame.x1 + 0.5
        and box[3] <= frame.y1 + 0.5
    )


def _overlap(a, b):
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_attention_figure_has_a_colorbar_and_unclipped_tick_labels():
    tokens = ["[BOS]", "▁", "изуч", "▁машинное", "обучение", "internationalization", "[EOS]"]
    weights = np.random.default_rng(0).dirichlet(np.ones(7), size=(3, 7)).astype("float32")
    title = "cross-attention (decoder queries, encoder keys), layer 0: " + SENTENCE * 3
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        figure = plots.attention_figure(weights, tokens, tokens, title=title)
        figure.draw_without_rendering()
    assert not [w for w in caught if "missing from" in str(w.message)]  # every glyph renders
    colorbars = [ax for ax in figure.axes if ax.get_label() == "<colorbar>"]
    assert len(colorbars) == 1
    renderer = figure.canvas.get_renderer()
    labels = [
        label
        for ax in figure.axes
        for label in ax.get_xticklabels() + ax.get_yticklabels()
        if label.get_visible() and label.get_text()
    ]
    assert len(labels) >= 3 * 2 * 7
    for label in [*labels, figure._suptitle]:
        assert _inside_figure(_extent(label, renderer), figure), label.get_text()
    heads = [ax for ax in figure.axes if ax.get_title().startswith("head")]
    shown = [label.get_text() for label in heads[0].get_xticklabels()]
    assert shown[1] == "␣" and shown[3] == "␣машинное"  # SentencePiece's ▁, visible


def _crowded_vectors(count=20, seed=0):
    """18 words within 0.01 of each other and two far away: a tight cluster in the picture."""
    vectors = np.random.default_rng(seed).normal(size=(count, 16)) * 0.01
    vectors[0, 0] += 1.0
    vectors[count // 2, 1] += 1.0
    return vectors


@pytest.mark.parametrize("case", ["tight_cluster", "two_languages", "spread"])
def test_pca_labels_do_not_overlap(case, tmp_path):
    from recipes.word2vec import Config

    words = list(Config().words)  # the recipe's default: 10 Russian, 10 English words
    if case == "tight_cluster":
        vectors = _crowded_vectors(len(words))
    elif case == "two_languages":  # each language a tight cluster, far from the other
        vectors = np.random.default_rng(1).normal(size=(len(words), 8)) * 0.01
        vectors[:10, 0] += 1.0
    else:
        vectors = np.random.default_rng(2).normal(size=(len(words), 32))
    figure = plots.pca_figure(words, vectors, title="Word2Vec: PCA of word vectors")
    figure.draw_without_rendering()
    renderer = figure.canvas.get_renderer()
    axes = figure.axes[0]
    texts = [text for text in axes.texts if text.get_text() in words]
    assert sorted(text.get_text() for text in texts) == sorted(words)
    boxes = [_extent(text, renderer) for text in texts]
    legend = axes.get_legend()
    legend_box = _extent(legend, renderer)
    for i, box in enumerate(boxes):
        assert _inside_figure(box, figure), texts[i].get_text()
        assert not _overlap(box, legend_box), texts[i].get_text()
        for j in range(i):
            assert not _overlap(box, boxes[j]), (texts[i].get_text(), texts[j].get_text())
    assert [t.get_text() for t in legend.get_texts()] == ["Russian (10)", "English (10)"]
    if case != "spread":
        assert axes.lines  # labels moved away from a crowded point get a leader line
    path = plots.plot_pca(words, vectors, str(tmp_path / "out" / "pca.png"))
    assert (tmp_path / "out" / "pca.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.endswith("pca.png")


def test_pca_groups_from_the_caller_and_errors(tmp_path):
    words = ["брат", "сестра", "brother", "sister", "dog"]
    vectors = np.random.default_rng(3).normal(size=(5, 4))
    groups = {"family": ["брат", "сестра", "brother", "sister"], "animals": ["dog"]}
    figure = plots.pca_figure(words, vectors, groups=groups)
    legend = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert legend == ["family (4)", "animals (1)"]
    assert plots.script_groups(words) == ["Russian", "Russian", "English", "English", "English"]
    with pytest.raises(ValueError, match=r"not for \['dog'\]"):
        plots.pca_figure(words, vectors, groups={"family": words[:4]})
    with pytest.raises(ValueError, match="3 group names for 5 words"):
        plots.pca_figure(words, vectors, groups=["a", "b", "c"])
    with pytest.raises(ValueError, match="at least 2 words"):
        plots.plot_pca(words, vectors[:4], str(tmp_path / "x.png"))
    with pytest.raises(ValueError, match="NaN"):
        plots.plot_pca(words, vectors * np.nan, str(tmp_path / "x.png"))
