"""BERT and GPT SavedModels serve raw strings in a process without zoo or keras."""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.test_case import tiny_model
from zoo.data.corpus import load_text
from zoo.data.pipelines import pack_token_ids
from zoo.export import BertModule, GPTModule, export_bert, export_gpt
from zoo.models import GPT, Bert, BertPretrainer
from zoo.models.generation import generate
from zoo.text import SentencePieceTokenizer

TEXTS = load_text("ru", "train")[:150] + load_text("en", "train")[:150]
BAD_UTF8 = "\udcff".encode("utf-8", "surrogatepass").decode("latin-1")  # round-trips as bytes
LONG = "слово " * 400


def _bytes(texts):
    """Test strings as bytes; `BAD_UTF8` stands for an invalid UTF-8 byte string."""
    return [b"\xff\xfe bad" if t == BAD_UTF8 else t.encode("utf-8") for t in texts]


def _serve(code, paths, inputs, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(CUDA_VISIBLE_DEVICES="", TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        input=json.dumps([paths, inputs]),
        capture_output=True,
        text=True,
        cwd=tmp_path,  # the checkout's `zoo` is not importable from here
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


HEADER = """
    import json, sys
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (registers the tokenizer ops)
    paths, inputs = json.loads(sys.stdin.read())
    texts = tf.constant([b"\\xff\\xfe bad" if t == "BAD" else t.encode("utf-8") for t in inputs])
"""
FOOTER = """
    assert "zoo" not in sys.modules, "serving imported zoo"
    print(json.dumps(out))
"""


# ------------------------------------------------------------------------------------ BERT


@pytest.fixture(scope="module")
def bert(tiny_bert):
    return tiny_bert


def _direct_encode(pretrainer, tokenizer, texts, length):
    """What `encode` should give, computed with the Keras model and the data pipeline."""
    ids = tokenizer.tokenize(tf.constant(_bytes(texts)))
    token_ids, mask = pack_token_ids(ids, length, 0, tokenizer.cls_token_id, tokenizer.sep_token_id)
    outputs = pretrainer.backbone.predict(
        {
            "token_ids": token_ids.numpy(),
            "padding_mask": mask.numpy().astype("int32"),
            "segment_ids": np.zeros(token_ids.shape, "int32"),
        },
        verbose=0,
    )
    return outputs["pooled_output"], outputs["sequence_output"]


def _direct_fill(pretrainer, tokenizer, left, right):
    """`left + best token + right` for one marker, from the Keras model's MLM logits."""
    left_ids = tokenizer.tokenize(left).numpy().tolist()
    right_ids = tokenizer.tokenize(right).numpy().tolist()
    row = [tokenizer.cls_token_id, *left_ids, tokenizer.mask_token_id, *right_ids]
    row.append(tokenizer.sep_token_id)
    length = pretrainer.backbone.max_sequence_length
    token_ids = np.zeros((1, length), "int32")
    token_ids[0, : len(row)] = row
    logits = pretrainer.predict(
        {
            "token_ids": token_ids,
            "padding_mask": (token_ids != 0).astype("int32"),
            "segment_ids": np.zeros_like(token_ids),
            "mask_positions": np.array([[len(left_ids) + 1]], "int32"),
        },
        verbose=0,
    )["mlm_logits"][0, 0]
    logits[: len(tokenizer.reserved_tokens)] = -np.inf  # reserved ids come first
    word = tokenizer.id_to_token(int(np.argmax(logits)))
    return left + word.removeprefix("##") + right


def test_bert_module_matches_the_keras_model(bert):
    pretrainer, tokenizer = bert
    module = BertModule(pretrainer, tokenizer, sequence_length=16)
    texts = ["Я учу слова.", "", BAD_UTF8, LONG]
    pooled, sequence = _direct_encode(pretrainer, tokenizer, texts, 16)
    pooled[1], sequence[1] = 0.0, 0.0  # the empty string is encoded as zeros
    served = module.encode(tf.constant(_bytes(texts)))
    # LONG is read in windows: its pooled output is their mean (tests/test_long_inputs.py),
    # its sequence output the first window's, which is the truncated text's.
    np.testing.assert_allclose(served["pooled_output"].numpy()[:3], pooled[:3], atol=1e-5)
    np.testing.assert_allclose(served["sequence_output"].numpy(), sequence, atol=1e-5)
    assert served["sequence_output"].shape == (4, 16, 16)
    assert served["windows"].numpy().tolist()[:3] == [1, 0, 1] and served["windows"][3] > 1

    left, right = "Я ", " книгу."
    filled = module.fill_mask(tf.constant([f"{left}[MASK]{right}"])).numpy()[0].decode()
    assert filled == _direct_fill(pretrainer, tokenizer, left, right)
    # No marker: the text comes back; a marker cut off by truncation stays "[MASK]".
    plain, cut = module.fill_mask(tf.constant(["без маски", LONG + "[MASK]"])).numpy()
    assert plain.decode() == "без маски"
    assert cut.decode() == LONG + "[MASK]"


def test_bert_saved_model_serves_strings_without_zoo(bert, tmp_path):
    pretrainer, tokenizer = bert
    path = str(tmp_path / "bert")
    module = export_bert(pretrainer, tokenizer, path, sequence_length=16)
    inputs = [
        "Я изучаю [MASK] обучение.",
        "[MASK] study machine [MASK].",
        "",
        "BAD",
        LONG,
        LONG + " [MASK]",
        "[MASK]",
    ]
    texts = _bytes([BAD_UTF8 if t == "BAD" else t for t in inputs])
    expected_fill = [
        t.decode("utf-8", "replace") for t in module.fill_mask(tf.constant(texts)).numpy()
    ]
    expected_encode = module.encode(tf.constant(texts))
    served = _serve(
        HEADER
        + """
    model = tf.saved_model.load(paths["bert"])
    encoded = model.signatures["encode"](text=texts)
    filled = model.signatures["fill_mask"](text=texts)["text"]
    out = {
        "pooled": encoded["pooled_output"].numpy().tolist(),
        "sequence": encoded["sequence_output"].numpy().tolist(),
        "fill": [t.decode("utf-8", "replace") for t in filled.numpy()],
        "method": [t.decode("utf-8", "replace") for t in model.fill_mask(texts).numpy()],
        "scalar": model.fill_mask(texts[0]).numpy().decode("utf-8"),
        "errors": [],
    }
    for call in (
        lambda: model.signatures["encode"](text=tf.constant([["a"], ["b"]])),
        lambda: model.signatures["fill_mask"](text=tf.constant("a")),
        lambda: model.encode(tf.constant([["a"], ["b"]])),
    ):
        try:
            call()
        except tf.errors.InvalidArgumentError as error:
            out["errors"].append(error.message)
    """
        + FOOTER,
        {"bert": path},
        inputs,
        tmp_path,
    )
    assert served["fill"] == expected_fill == served["method"]
    assert "[MASK]" not in served["fill"][0] and served["fill"][0].endswith(" обучение.")
    assert served["fill"][2] == "" and served["fill"][3] == "\ufffd\ufffd bad"
    assert served["scalar"] == served["fill"][0]
    assert len(served["errors"]) == 3
    for message, shape in zip(served["errors"], ("[2 1]", "[]", "[2 1]")):
        assert "expected a [batch] tensor of strings (rank 1)" in message
        assert f"received shape] {shape}" in message
    np.testing.assert_allclose(served["pooled"], expected_encode["pooled_output"], atol=1e-5)
    np.testing.assert_allclose(served["sequence"], expected_encode["sequence_output"], atol=1e-5)


def test_bert_pretrainer_keras_file_round_trip(bert, tmp_path):
    pretrainer, _ = bert
    path = str(tmp_path / "bert.keras")
    pretrainer.save(path)
    restored = keras.saving.load_model(path)
    inputs = {
        "token_ids": np.array([[2, 10, 11, 4, 3, 0]], "int32"),
        "padding_mask": np.array([[1, 1, 1, 1, 1, 0]], "int32"),
        "segment_ids": np.zeros((1, 6), "int32"),
        "mask_positions": np.array([[3]], "int32"),
    }
    for key in ("mlm_logits", "nsp_logits"):
        np.testing.assert_allclose(
            restored.predict(inputs, verbose=0)[key],
            pretrainer.predict(inputs, verbose=0)[key],
            atol=1e-6,
        )


def test_bert_module_rejects_a_sequence_length_above_the_model(bert):
    pretrainer, tokenizer = bert
    with pytest.raises(ValueError, match="max_sequence_length"):
        BertModule(pretrainer, tokenizer, sequence_length=17)


# ------------------------------------------------------------------------------------- GPT


@pytest.fixture(scope="module")
def gpt():
    tokenizer = SentencePieceTokenizer.train(TEXTS, 500, verbose=False)
    return tiny_model(GPT, tokenizer.vocabulary_size(), seed=0), tokenizer


def _direct_generate(model, tokenizer, prompt, prompt_length, cap, wanted):
    """`generate` of zoo.models.generation on the same prompt, cut to `wanted` tokens."""
    ids = tokenizer.tokenize(prompt).numpy().tolist()[-(prompt_length - 1) :]
    ids = [tokenizer.eos_token_id, *ids]
    tokens = generate(
        model,
        np.array([ids]),
        max_new_tokens=cap,
        end_token_id=tokenizer.eos_token_id,
        run_eagerly=True,
    )[0]
    new = tokens[len(ids) : len(ids) + wanted]
    text = tokenizer.detokenize(np.array(list(ids) + list(new))).numpy().decode()
    completion = tokenizer.detokenize(np.array(list(new), "int32")).numpy().decode()
    return text, completion


def test_gpt_saved_model_generates_like_the_keras_model(gpt, tmp_path):
    model, tokenizer = gpt
    path = str(tmp_path / "gpt")
    module = export_gpt(model, tokenizer, path, prompt_length=6, max_new_tokens=8)
    prompts = ["Я изучаю", "My sister", "", "BAD", LONG]
    texts = tf.constant(_bytes([BAD_UTF8 if p == "BAD" else p for p in prompts]))
    expected = {}
    for wanted in (0, 3, 100):
        result = module.generate(texts, tf.constant(wanted))
        expected[str(wanted)] = {
            key: [
                t.decode("utf-8", "replace") if isinstance(t, bytes) else bool(t)
                for t in value.numpy()
            ]
            for key, value in result.items()
        }
    for prompt, text, completion in zip(
        prompts[:2], expected["3"]["text"][:2], expected["3"]["completion"][:2]
    ):
        assert (text, completion) == _direct_generate(model, tokenizer, prompt, 6, 8, 3)
    assert expected["0"]["completion"] == [""] * len(prompts)
    assert expected["100"] == {
        key: [
            t.decode("utf-8", "replace") if isinstance(t, bytes) else bool(t) for t in value.numpy()
        ]
        for key, value in module.generate(texts, tf.constant(8)).items()
    }  # clamped to the export-time cap
    # The prompt window keeps 5 tokens: longer prompts lose their beginning, and say so.
    longer = [len(tokenizer.tokenize(prompt).numpy()) > 5 for prompt in prompts]
    assert expected["3"]["truncated"] == [*longer[:2], False, False, True] and longer[4]

    served = _serve(
        HEADER
        + """
    model = tf.saved_model.load(paths["gpt"])
    out = {}
    for wanted in (0, 3, 100):
        result = model.signatures["generate"](
            prompt=texts, max_new_tokens=tf.constant(wanted, tf.int32)
        )
        out[str(wanted)] = {
            key: [
                t.decode("utf-8", "replace") if isinstance(t, bytes) else bool(t)
                for t in value.numpy()
            ]
            for key, value in result.items()
        }
    try:
        model.signatures["generate"](
            prompt=tf.constant([["a"], ["b"]]), max_new_tokens=tf.constant(3)
        )
    except tf.errors.InvalidArgumentError as error:
        out["error"] = error.message
    """
        + FOOTER,
        {"gpt": path},
        prompts,
        tmp_path,
    )
    message = served.pop("error")
    assert "generate() expected a [batch] tensor of strings (rank 1)" in message
    assert served == expected


def test_gpt_module_checks_the_cap_against_the_model(gpt):
    model, tokenizer = gpt
    with pytest.raises(ValueError, match="max_sequence_length"):
        GPTModule(model, tokenizer, prompt_length=8, max_new_tokens=9)


def test_gpt_keras_file_round_trip(gpt, tmp_path):
    model, _ = gpt
    path = str(tmp_path / "gpt.keras")
    model.save(path)
    restored = keras.saving.load_model(path)
    inputs = {"token_ids": np.array([[6, 10, 11, 12]]), "padding_mask": np.ones((1, 4), "int32")}
    np.testing.assert_allclose(
        restored.predict(inputs, verbose=0), model.predict(inputs, verbose=0), atol=1e-6
    )


# Tiny options for GPTs with an efficient attention: each pattern bites at 6 + 8 positions.
EFFICIENT_GPT = {
    "performer": {"num_features": 8, "chunk_size": 4, "seed": 0},
    "longformer": {"attention_window": 3},
    "sparse": {"block_size": 4},
}


@pytest.mark.parametrize(
    "attention",
    [
        "performer",
        *(pytest.param(name, marks=pytest.mark.slow) for name in ("longformer", "sparse")),
    ],
)
def test_efficient_attention_gpt_saved_model_generates_like_the_keras_model(
    gpt, attention, tmp_path
):
    # Saving used to trace the Keras model's own default signature on (None, None) ids,
    # which these static-length attentions refuse; the export now saves without it.
    tokenizer = gpt[1]
    model = tiny_model(
        GPT,
        tokenizer.vocabulary_size(),
        seed=0,
        attention=attention,
        attention_options=EFFICIENT_GPT[attention],
    )
    path = str(tmp_path / attention)
    module = export_gpt(model, tokenizer, path, prompt_length=6, max_new_tokens=8)
    assert type(model) is GPT  # the class swapped while saving is restored
    prompts = ["Я изучаю", "My sister", ""]
    served = tf.saved_model.load(path).signatures["generate"](
        prompt=tf.constant(prompts), max_new_tokens=tf.constant(3)
    )
    direct = module.generate(tf.constant(prompts), tf.constant(3))
    for key in ("text", "completion", "truncated"):
        assert served[key].numpy().tolist() == direct[key].numpy().tolist()
    text, completion = served["text"].numpy()[1].decode(), served["completion"].numpy()[1].decode()
    assert completion and (text, completion) == _direct_generate(
        model, tokenizer, prompts[1], 6, 8, 3
    )


@pytest.mark.slow
def test_efficient_attention_bert_saved_model_encodes_like_the_module(bert, tmp_path):
    _, tokenizer = bert
    backbone = tiny_model(
        Bert,
        tokenizer.vocabulary_size(),
        seed=0,
        attention="sparse",
        attention_options={"block_size": 4},
    )
    path = str(tmp_path / "bert")
    module = export_bert(BertPretrainer(backbone), tokenizer, path, sequence_length=16)
    texts = tf.constant(["Я [MASK] книгу.", "My sister"])
    loaded = tf.saved_model.load(path)
    served, direct = loaded.signatures["encode"](text=texts), module.encode(texts)
    for key in ("sequence_output", "pooled_output"):
        np.testing.assert_allclose(served[key].numpy(), direct[key].numpy(), atol=1e-6)
    assert (
        loaded.signatures["fill_mask"](text=texts)["text"].numpy().tolist()
        == module.fill_mask(texts).numpy().tolist()
    )


# --------------------------------------------------------------- blank input, shapes, ids

BAD_ONLY = b"\xff\xfe\xc3"  # invalid UTF-8 and nothing else
# Blank for every tokenizer: nothing but whitespace, controls, format characters, U+FFFD.
BLANK = ["", "   \t\n ", BAD_ONLY, "\u200b\ufffd\x00"]
EMOJI = "🙂👍🏽"  # [UNK] for WordPiece; byte pieces (readable) for SentencePiece
RANK_MESSAGE = r"expected a \[batch\] tensor of strings \(rank 1\)"


def _strings(values):
    return tf.constant([v if isinstance(v, bytes) else v.encode("utf-8") for v in values])


@pytest.fixture(scope="module")
def translator(bert):
    """A tiny untrained Transformer on the BERT fixture's WordPiece tokenizer."""
    from zoo.export import TranslatorModule
    from zoo.models import Transformer

    _, tokenizer = bert
    model = tiny_model(Transformer, tokenizer.vocabulary_size(), seed=1)
    return model, tokenizer, TranslatorModule(model, tokenizer, 8, 8, serving_batch_size=4)


def test_translate_answers_blank_input_with_empty_strings(translator):
    module = translator[2]
    texts = ["Я изучаю машинное обучение.", *BLANK, EMOJI, "My sister reads a book."]
    served = module.translate(_strings(texts)).numpy().tolist()
    assert served[1:6] == [b""] * 5  # blank, and emoji-only ([UNK] only for WordPiece)
    assert served[0] != b""
    alone = [module.translate(_strings([t])).numpy()[0] for t in texts]
    assert served == alone  # a mixed batch (two chunks) answers as each string alone
    scalar = module.translate(tf.constant(texts[0]))
    assert scalar.shape == () and scalar.numpy() == served[0]
    with pytest.raises(tf.errors.InvalidArgumentError, match=RANK_MESSAGE + r".*\[2 2\]"):
        module.translate(tf.constant([["a", "b"], ["c", "d"]]))


def test_translator_saved_model_checks_shapes(translator, tmp_path):
    from zoo.export import export_translator

    model, tokenizer, module = translator
    path = str(tmp_path / "translator")
    export_translator(model, tokenizer, path, 8, 8, serving_batch_size=4)
    loaded = tf.saved_model.load(path)
    texts = _strings(["Я изучаю машинное обучение.", "", BAD_ONLY])
    expected = module.translate(texts).numpy().tolist()
    served = loaded.signatures["translate"](text=texts)["translation"].numpy().tolist()
    assert served == expected and expected[1:] == [b"", b""]
    assert loaded.translate("Я изучаю машинное обучение.").numpy() == expected[0]
    rank_2 = tf.constant([["a", "b"], ["c", "d"]])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"or a scalar string.*\[2 2\]"):
        loaded.translate(rank_2)
    for bad, shape in ((rank_2, r"\[2 2\]"), (tf.constant("a"), r"\[\]")):
        with pytest.raises(tf.errors.InvalidArgumentError, match=RANK_MESSAGE + ".*" + shape):
            loaded.signatures["translate"](text=bad)


def test_bert_module_answers_blank_input_with_zeros_and_empty_strings(bert):
    pretrainer, tokenizer = bert
    module = BertModule(pretrainer, tokenizer, sequence_length=16)
    texts = ["Я изучаю машинное обучение.", *BLANK, EMOJI, "I study."]
    encoded = module.encode(_strings(texts))
    pooled, sequence = encoded["pooled_output"].numpy(), encoded["sequence_output"].numpy()
    assert not pooled[1:6].any() and not sequence[1:6].any()
    assert pooled[[0, 6]].any(axis=1).all()
    for row in (0, 6):
        alone = module.encode(_strings(texts[row : row + 1]))
        np.testing.assert_allclose(alone["pooled_output"].numpy()[0], pooled[row], atol=1e-6)
    scalar = module.encode(tf.constant(texts[0]))
    assert scalar["pooled_output"].shape == (16,)
    assert scalar["sequence_output"].shape == (16, 16)
    np.testing.assert_allclose(scalar["pooled_output"].numpy(), pooled[0], atol=1e-6)

    fills = ["Я [MASK] книгу.", "", " [MASK] ", BAD_ONLY + b"[MASK]", f"{EMOJI} [MASK]", "[MASK]"]
    served = module.fill_mask(_strings(fills)).numpy().tolist()
    assert served[1:] == [b""] * 5 and b"[MASK]" not in served[0]
    assert module.fill_mask(tf.constant(fills[0])).numpy() == served[0]
    for signature in (module.encode, module.fill_mask):
        with pytest.raises(tf.errors.InvalidArgumentError, match=RANK_MESSAGE):
            signature(tf.constant([["a"], ["b"]]))


def test_gpt_module_serves_blank_prompts_as_the_empty_prompt(gpt):
    model, tokenizer = gpt
    module = GPTModule(model, tokenizer, prompt_length=6, max_new_tokens=4, serving_batch_size=4)
    prompts = ["Я изучаю", *BLANK, EMOJI, "My sister"]
    result = module.generate(_strings(prompts), tf.constant(4))
    text, completion = result["text"].numpy().tolist(), result["completion"].numpy().tolist()
    unconditional = completion[1]
    assert text[1:5] == completion[1:5] == [unconditional] * 4  # the blank text is not echoed
    for row, prompt in enumerate(prompts):
        alone = module.generate(_strings([prompt]), tf.constant(4))
        assert (alone["text"].numpy()[0], alone["completion"].numpy()[0]) == (
            text[row],
            completion[row],
        )
    assert text[5] != completion[5]  # emoji are read (byte pieces) by SentencePiece
    scalar = module.generate(tf.constant(prompts[0]), tf.constant(4))
    assert scalar["text"].shape == () and scalar["text"].numpy() == text[0]
    with pytest.raises(tf.errors.InvalidArgumentError, match=RANK_MESSAGE):
        module.generate(tf.constant([["a"], ["b"]]), tf.constant(4))
    with pytest.raises(tf.errors.InvalidArgumentError, match="max_new_tokens as an int32 scalar"):
        module.generate.python_function(tf.constant(["a"]), tf.constant([4]))


def test_padded_model_vocabularies_never_emit_ids_the_tokenizer_lacks(gpt, bert):
    tokenizer = gpt[1]
    size = tokenizer.vocabulary_size()
    padded = tiny_model(GPT, size + 12, seed=0)
    module = GPTModule(padded, tokenizer, prompt_length=6, max_new_tokens=4)
    wrapped = module._generator.model
    cache = wrapped.init_cache(1, 8)
    logits, _, _ = wrapped.call_with_cache(tf.constant([[6, 10]]), cache, 0)
    assert (logits.numpy()[..., size:] == -1e9).all()
    assert module.generate(tf.constant(["Я изучаю"]), tf.constant(4))["text"].shape == (1,)
    with pytest.raises(ValueError, match=f"tokenizer of {size} tokens"):
        GPTModule(
            tiny_model(GPT, size - 1, seed=None), tokenizer, prompt_length=6, max_new_tokens=4
        )

    _, bert_tokenizer = bert
    backbone = tiny_model(Bert, bert_tokenizer.vocabulary_size() + 8, seed=None)
    bert_module = BertModule(BertPretrainer(backbone), bert_tokenizer, sequence_length=16)
    assert bert_module.fill_mask(tf.constant(["Я [MASK] книгу."])).shape == (1,)
