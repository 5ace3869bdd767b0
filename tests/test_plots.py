"""Attention heatmaps: the weights are the model's real attention, the PNGs are written."""

import json
import warnings

import keras
import numpy as np
import pytest

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
    keras.utils.set_random_seed(0)
    return Transformer(
        vocabulary_size=tokenizer.vocabulary_size(),
        num_layers=2,
        num_heads=2,
        hidden_dim=16,
        intermediate_dim=32,
        max_sequence_length=12,
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
    keras.utils.set_random_seed(1)
    model = GPT(
        vocabulary_size=tokenizer.vocabulary_size(),
        num_layers=2,
        num_heads=2,
        hidden_dim=16,
        intermediate_dim=32,
        max_sequence_length=10,
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
    keras.utils.set_random_seed(2)
    model = Bert(
        vocabulary_size=tokenizer.vocabulary_size(),
        num_layers=1,
        num_heads=2,
        hidden_dim=16,
        intermediate_dim=32,
        max_sequence_length=10,
    )
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
