"""LoRA fine-tuning: `enable_lora` / `merge_lora` on the zoo models, saving and export."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.test_case import assert_all_close, run_saving_test
from zoo.models.backbone import LORA_TARGETS
from zoo.models.bert import Bert, BertClassifier, BertPretrainer
from zoo.models.gpt import GPT
from zoo.models.transformer import Transformer

VOCABULARY, LENGTH, RANK = 60, 8, 4
HIDDEN, HEADS, INTERMEDIATE, LAYERS = 16, 2, 32, 2
LORA_NAMES = {"lora_kernel_a", "lora_kernel_b"}


def _sizes(**kwargs):
    return {
        "vocabulary_size": VOCABULARY,
        "num_layers": LAYERS,
        "num_heads": HEADS,
        "hidden_dim": HIDDEN,
        "intermediate_dim": INTERMEDIATE,
        "max_sequence_length": 16,
        "dropout": 0.0,
        **kwargs,
    }


def _batch(seed=0, lengths=(8, 5), segments=True):
    rng = np.random.default_rng(seed)
    mask = np.arange(LENGTH)[None] < np.array(lengths)[:, None]
    batch = {
        "token_ids": (rng.integers(5, VOCABULARY, (2, LENGTH)) * mask).astype("int32"),
        "padding_mask": mask.astype("int32"),
    }
    if segments:
        batch["segment_ids"] = ((np.arange(LENGTH)[None] >= 3) & mask).astype("int32")
    return batch


def _seq2seq_batch(seed=0):
    rng = np.random.default_rng(seed)
    return {
        "encoder_token_ids": rng.integers(5, VOCABULARY, (2, 7)).astype("int32"),
        "encoder_padding_mask": np.ones((2, 7), "int32"),
        "decoder_token_ids": rng.integers(5, VOCABULARY, (2, 6)).astype("int32"),
        "decoder_padding_mask": np.ones((2, 6), "int32"),
    }


def _numpy(value):
    return keras.ops.convert_to_numpy(value)


def _lora_variables(model):
    return [v for v in model.weights if v.name in LORA_NAMES]


def _count(variables):
    return sum(int(np.prod(v.shape)) for v in variables)


def _block_adapter_parameters(rank, cross_attention=False):
    """Keras's adapter shapes: EinsumDense `a` (*kernel[:-1], rank), `b` (rank, kernel[-1])."""
    head_dim = HIDDEN // HEADS
    qkv = 3 * (HIDDEN * HEADS * rank + rank * head_dim)
    output = HEADS * head_dim * rank + rank * HIDDEN
    ffn = (HIDDEN * rank + rank * INTERMEDIATE) + (INTERMEDIATE * rank + rank * HIDDEN)
    return (qkv + output) * (2 if cross_attention else 1) + ffn


def _randomize_adapters(model, seed=0):
    """Nonzero `b` (and new `a`), as after some training."""
    rng = np.random.default_rng(seed)
    for variable in _lora_variables(model):
        variable.assign(rng.normal(0.0, 0.1, variable.shape).astype("float32"))


def _structure(model):
    return [(v.path.split("/", 1)[-1], tuple(v.shape), v.trainable) for v in model.weights]


# ------------------------------------------------------------------------- enable_lora


def test_only_adapters_train_and_the_counts_add_up():
    model = Bert(**_sizes())
    batch = _batch()
    before = model(batch)
    total = model.count_params()
    counts = model.enable_lora(RANK)
    lora = _lora_variables(model)
    assert len(lora) == 2 * 6 * LAYERS  # q, k, v, attention output, two FFN kernels
    assert {id(v) for v in model.trainable_weights} == {id(v) for v in lora}
    expected = LAYERS * _block_adapter_parameters(RANK)
    assert counts == {
        "lora_parameters": expected,
        "trainable_parameters": expected,
        "total_parameters": total + expected,
    }
    assert model.lora_rank == RANK
    # b starts at zero: the model computes what it did before.
    assert_all_close(model(batch), before, atol=0, rtol=0)


def test_targets_choose_the_kernels():
    model = Bert(**_sizes())
    counts = model.enable_lora(2, targets=["attention"])
    assert counts["lora_parameters"] == LAYERS * (
        _block_adapter_parameters(2) - (HIDDEN * 2 + 2 * INTERMEDIATE) * 2
    )
    paths = {v.path.rsplit("/", 2)[-2] for v in _lora_variables(model)}
    assert paths == {"query", "key", "value", "attention_output"}
    model = GPT(**_sizes())
    model.enable_lora(2, alpha=8, targets=("value", "ffn"))
    paths = {v.path.rsplit("/", 2)[-2] for v in _lora_variables(model)}
    assert paths == {"value", "intermediate_dense", "output_dense"}
    config = model.get_config()
    assert (config["lora_rank"], config["lora_alpha"]) == (2, 8)
    assert config["lora_targets"] == ["value", "ffn_intermediate", "ffn_output"]


def test_task_models_keep_their_head_trainable():
    classifier = BertClassifier(Bert(**_sizes()), num_classes=3, dropout=0.0)
    counts = classifier.enable_lora(RANK)
    head = classifier.output_dense.weights
    assert len(head) == 2
    expected = {id(v) for v in _lora_variables(classifier) + head}
    assert {id(v) for v in classifier.trainable_weights} == expected
    assert counts["trainable_parameters"] == LAYERS * _block_adapter_parameters(RANK) + 3 * 17
    assert classifier.lora_rank == classifier.backbone.lora_rank == RANK

    pretrainer = BertPretrainer(Bert(**_sizes()))
    pretrainer.enable_lora(RANK)
    trainable = {id(v) for v in pretrainer.trainable_weights}
    # The masked-LM head tracks the backbone's token embedding (tied): that stays frozen.
    tied = {id(v) for v in pretrainer.backbone.embeddings.weights}
    head = pretrainer.masked_lm_head.weights + pretrainer.next_sentence_head.weights
    head = [v for v in head if id(v) not in tied]
    assert len(head) == 7  # transform kernel, bias, LayerNorm (2), output bias; NSP dense (2)
    assert trainable == {id(v) for v in _lora_variables(pretrainer) + head}
    assert not tied & trainable


def test_a_few_training_steps_move_only_the_adapters_and_the_head():
    classifier = BertClassifier(Bert(**_sizes()), num_classes=3, dropout=0.0)
    classifier.enable_lora(RANK)
    classifier.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=True,
    )
    batch = _batch()
    before = [_numpy(v).copy() for v in classifier.weights]
    classifier.fit(batch, np.array([0, 2]), epochs=3, batch_size=2, verbose=0)
    moving = {id(v) for v in classifier.trainable_weights}
    for variable, old in zip(classifier.weights, before):
        changed = not np.array_equal(_numpy(variable), old)
        if id(variable) in moving:
            # a starts random and b at zero; both get gradients once b has moved.
            assert changed, variable.path
        else:
            assert not changed, variable.path


def test_works_with_efficient_attention_and_on_the_transformer():
    for attention in ("sparse", "reformer"):
        gpt = GPT(**_sizes(), attention=attention)
        batch = _batch(segments=False)
        before = _numpy(gpt(batch))
        gpt.enable_lora(RANK)
        assert_all_close(gpt(batch), before, atol=0, rtol=0)
        adapted_kernels = {v.path.rsplit("/", 2)[-2] for v in _lora_variables(gpt)}
        # Reformer shares queries and keys: it has no key projection to adapt.
        assert ("key" in adapted_kernels) == (attention == "sparse")
        _randomize_adapters(gpt)
        adapted = _numpy(gpt(batch))
        assert np.abs(adapted - before).max() > 1e-3
        gpt.merge_lora()
        assert_all_close(gpt(batch), adapted, atol=1e-5, rtol=1e-5)

    transformer = Transformer(**_sizes())
    counts = transformer.enable_lora(RANK)
    encoder = LAYERS * _block_adapter_parameters(RANK)
    decoder = LAYERS * _block_adapter_parameters(RANK, cross_attention=True)
    assert counts["lora_parameters"] == counts["trainable_parameters"] == encoder + decoder
    batch = _seq2seq_batch()
    _randomize_adapters(transformer)
    adapted = _numpy(transformer(batch))
    transformer.merge_lora()
    assert_all_close(transformer(batch), adapted, atol=1e-5, rtol=1e-5)


def test_mixed_precision():
    keras.config.set_dtype_policy("mixed_bfloat16")
    gpt = GPT(**_sizes())
    gpt.enable_lora(RANK)
    assert all(v.dtype == "float32" for v in _lora_variables(gpt))
    _randomize_adapters(gpt)
    batch = _batch(segments=False)
    adapted = _numpy(gpt(batch))
    gpt.merge_lora()
    assert_all_close(gpt(batch), adapted, atol=0.05, rtol=0.05)  # bfloat16 computation


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"rank": 0}, "rank"),
        ({"rank": -2}, "rank"),
        ({"rank": 2.0}, "rank"),
        ({"rank": True}, "rank"),
        ({"rank": 2, "alpha": 0}, "alpha"),
        ({"rank": 2, "targets": ["query", "bias"]}, "targets"),
        ({"rank": 2, "targets": []}, "targets"),
    ],
)
def test_bad_arguments_are_refused(kwargs, message):
    model = GPT(**_sizes(num_layers=1))
    with pytest.raises(ValueError, match=message):
        model.enable_lora(**kwargs)
    assert model.lora_rank is None and not _lora_variables(model)


def test_enabling_twice_and_merging_without_adapters_are_refused():
    model = GPT(**_sizes(num_layers=1))
    with pytest.raises(ValueError, match="enable_lora"):
        model.merge_lora()
    model.enable_lora(2)
    with pytest.raises(ValueError, match="already enabled"):
        model.enable_lora(2)
    classifier = BertClassifier(Bert(**_sizes(num_layers=1)), num_classes=2)
    classifier.backbone.enable_lora(2)
    with pytest.raises(ValueError, match="already enabled"):
        classifier.enable_lora(2)


# -------------------------------------------------------------------------- merge_lora


def test_merge_gives_equal_outputs_and_the_original_variables():
    classifier = BertClassifier(Bert(**_sizes()), num_classes=3, dropout=0.0)
    original = _structure(classifier)
    classifier.enable_lora(RANK, alpha=2 * RANK)
    _randomize_adapters(classifier)
    batch = _batch()
    adapted = _numpy(classifier(batch))
    classifier.merge_lora()
    merged = _numpy(classifier(batch))
    assert_all_close(merged, adapted, atol=1e-5, rtol=1e-5)
    print(f"merge parity: max |difference| {np.abs(merged - adapted).max():.2e}")
    assert not _lora_variables(classifier)
    assert _structure(classifier) == original  # same paths, shapes; all trainable again
    assert classifier.lora_rank is None
    assert "lora_rank" not in classifier.get_config()["backbone"]["config"]
    # A merged model saves as a plain one and can get new adapters.
    run_saving_test(classifier, batch, atol=1e-6)
    classifier.enable_lora(2)
    assert_all_close(classifier(batch), merged, atol=0, rtol=0)


# ------------------------------------------------------------------------------ saving


def test_keras_file_round_trip_keeps_the_adapters():
    classifier = BertClassifier(Bert(**_sizes()), num_classes=3, dropout=0.0)
    classifier.enable_lora(RANK)
    _randomize_adapters(classifier)
    loaded = run_saving_test(classifier, _batch(), atol=1e-5)
    assert loaded.lora_rank == RANK
    assert len(loaded.trainable_weights) == len(classifier.trainable_weights)
    for saved, restored in zip(_lora_variables(classifier), _lora_variables(loaded)):
        assert_all_close(restored, saved, atol=0, rtol=0)  # the adapters, not zeros
    kernels = [(a, b) for a, b in zip(classifier.weights, loaded.weights) if a.name == "kernel"]
    assert max(np.abs(_numpy(a) - _numpy(b)).max() for a, b in kernels) < 1e-6


def test_weights_file_round_trip(tmp_path):
    gpt = GPT(**_sizes())
    gpt.enable_lora(RANK)
    _randomize_adapters(gpt)
    path = str(tmp_path / "gpt.weights.h5")
    gpt.save_weights(path)
    other = GPT(**_sizes())
    other.enable_lora(RANK)
    other.load_weights(path)
    batch = _batch(segments=False)
    assert_all_close(other(batch), gpt(batch), atol=1e-5, rtol=1e-5)
    # Into a plain model: the saved kernels are the merged ones.
    plain = GPT(**_sizes())
    plain.load_weights(path)
    assert_all_close(plain(batch), gpt(batch), atol=1e-5, rtol=1e-5)


# ------------------------------------------------------------------------------ export


def test_classifier_export_serves_the_lora_model(tmp_path):
    from zoo.data.corpus import load_text
    from zoo.data.pipelines import pack_token_ids
    from zoo.export import export_classifier
    from zoo.export.common import with_merged_lora
    from zoo.text import WordPieceTokenizer

    texts = load_text("en", "train")[:100]
    tokenizer = WordPieceTokenizer.train(texts, 300, verbose=False)
    backbone = Bert(**_sizes(vocabulary_size=tokenizer.vocabulary_size()))
    classifier = BertClassifier(backbone, num_classes=3, dropout=0.0)
    classifier.enable_lora(RANK)
    _randomize_adapters(classifier)

    module = export_classifier(
        classifier, tokenizer, str(tmp_path / "classifier"), ["a", "b", "c"], sequence_length=12
    )
    assert module.classifier is not classifier and not _lora_variables(module.classifier)
    assert classifier.lora_rank == RANK and len(_lora_variables(classifier)) == 2 * 6 * LAYERS
    assert with_merged_lora(backbone.__class__(**_sizes())).lora_rank is None

    sentences = ["the cat sat on the mat", "a dog"]
    ids = tokenizer.tokenize(tf.constant(sentences))
    token_ids, mask = pack_token_ids(ids, 12, 0, tokenizer.cls_token_id, tokenizer.sep_token_id)
    logits = classifier(
        {"token_ids": token_ids.numpy(), "padding_mask": mask.numpy().astype("int32")}
    )
    expected = _numpy(keras.ops.softmax(logits))
    served = tf.saved_model.load(str(tmp_path / "classifier")).signatures["classify"](
        text=tf.constant(sentences)
    )
    probabilities = served["probabilities"].numpy()
    assert_all_close(probabilities, expected, atol=1e-5, rtol=1e-5)
    print(f"export parity: max |difference| {np.abs(probabilities - expected).max():.2e}")


def test_gpt_module_generates_with_merged_adapters():
    from zoo.export import GPTModule
    from zoo.export.common import with_merged_lora
    from zoo.text import CharacterTokenizer

    tokenizer = CharacterTokenizer.train(["abcdefgh ijk"], 40, byte_fallback=False, verbose=False)
    gpt = GPT(**_sizes(vocabulary_size=tokenizer.vocabulary_size()))
    gpt.enable_lora(RANK)
    _randomize_adapters(gpt, seed=3)
    merged = with_merged_lora(gpt)
    assert merged is not gpt and merged.lora_rank is None and gpt.lora_rank == RANK
    batch = _batch(segments=False)
    batch["token_ids"] = batch["token_ids"] % tokenizer.vocabulary_size()
    assert_all_close(merged(batch), gpt(batch), atol=1e-5, rtol=1e-5)
    module = GPTModule(gpt, tokenizer, prompt_length=4, max_new_tokens=4)
    assert not _lora_variables(module.model)


def test_default_targets_are_attention_and_ffn():
    assert LORA_TARGETS == (
        "query",
        "key",
        "value",
        "attention_output",
        "ffn_intermediate",
        "ffn_output",
    )
