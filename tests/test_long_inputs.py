"""Exported signatures read inputs of any length: nothing is dropped without saying so."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.test_case import tiny_model
from zoo.data.corpus import load_text
from zoo.data.pipelines import pack_token_ids
from zoo.export import BertModule, GPTModule, TranslatorModule, export_translator
from zoo.models import GPT, Transformer
from zoo.text import CharacterTokenizer, SentencePieceTokenizer
from zoo.text.sentences import split_sentences

RUSSIAN = load_text("ru", "train")
TEXTS = RUSSIAN[:150] + load_text("en", "train")[:150]


def _long_russian(characters=10_000):
    """Corpus sentences joined with spaces until the text has `characters` characters."""
    text, index = "", 0
    while len(text) < characters:
        text += RUSSIAN[index] + " "
        index += 1
    return text.strip()


LONG_RUSSIAN = _long_russian()


def _tiny_transformer(vocabulary_size, max_sequence_length):
    return tiny_model(Transformer, vocabulary_size, seed=1, max_sequence_length=max_sequence_length)


class _EchoTranslator(TranslatorModule):
    """Decodes each piece as itself: the translation shows exactly what was read."""

    def _decode_chunk(self, token_ids):
        start = tf.fill([tf.shape(token_ids)[0], 1], self.target_tokenizer.bos_token_id)
        echoed = tf.concat([start, token_ids], axis=1)[:, : self.max_length]
        return tf.pad(echoed, [[0, 0], [0, self.max_length - tf.shape(echoed)[1]]])


@pytest.fixture(scope="module")
def characters():
    tokenizer = CharacterTokenizer.train([LONG_RUSSIAN, *TEXTS], vocabulary_size=400)
    return tokenizer, _tiny_transformer(tokenizer.vocabulary_size(), 16)


def _echo(characters, source_length, **kwargs):
    tokenizer, model = characters
    module = _EchoTranslator(model, tokenizer, source_length, source_length + 1, **kwargs)
    return lambda texts: {
        key: value.numpy().tolist()
        for key, value in module.translate_with_details(tf.constant(texts)).items()
    }


def test_translate_reads_every_sentence_of_a_long_text_in_order(characters):
    sentences = split_sentences(LONG_RUSSIAN)
    assert len(LONG_RUSSIAN) >= 10_000 and len(sentences) > 50
    longest = max(len(sentence) for sentence in sentences)
    # A character is a token here: the cap is raised past the text's 10,000.
    whole = _echo(characters, longest, serving_batch_size=8, max_input_tokens=12_000)(
        [LONG_RUSSIAN, "Да."]
    )
    assert whole["translation"][0].decode() == " ".join(sentences)
    assert whole["translation"][1].decode() == "Да."
    assert whole["truncated"] == [False, False]
    # Sentences longer than the source length are cut into pieces, none lost.
    pieces = _echo(characters, 16, max_input_tokens=12_000)([LONG_RUSSIAN])
    read = pieces["translation"][0].decode()
    assert read.replace(" ", "") == LONG_RUSSIAN.replace(" ", "")
    assert pieces["truncated"] == [False]
    capped = _echo(characters, 16)([LONG_RUSSIAN])  # the default cap: 4096 tokens
    assert capped["truncated"] == [True]
    assert len(capped["translation"][0].decode().replace(" ", "")) < 4096


def test_truncated_is_true_only_past_the_cap(characters):
    tokenizer = characters[0]
    text = " ".join(RUSSIAN[:5])
    tokens = sum(len(ids) for ids in tokenizer.tokenize(split_sentences(text)).to_list())
    full = _echo(characters, 24, max_input_tokens=tokens)([text, "Да."])
    assert full["truncated"] == [False, False]
    cut = _echo(characters, 24, max_input_tokens=tokens - 1)([text, "Да."])
    assert cut["truncated"] == [True, False]
    whole, kept = full["translation"][0].decode(), cut["translation"][0].decode()
    assert whole.startswith(kept) and len(whole) - len(kept) in (1, 2)  # one token less
    assert cut["translation"][1] == full["translation"][1]
    with pytest.raises(ValueError, match="max_input_tokens"):
        _echo(characters, 24, max_input_tokens=0)


def test_a_long_text_through_the_saved_model(characters, tmp_path):
    tokenizer, model = characters
    path = str(tmp_path / "translator")
    module = export_translator(
        model, tokenizer, path, 12, 8, serving_batch_size=16, max_input_tokens=12_000
    )
    loaded = tf.saved_model.load(path)
    texts = tf.constant([LONG_RUSSIAN, "", "Привет."])
    served = loaded.signatures["translate"](text=texts)
    assert served["truncated"].numpy().tolist() == [False, False, False]
    expected = module.translate(texts).numpy().tolist()
    assert served["translation"].numpy().tolist() == expected
    assert expected[0] != b"" and expected[1] == b""
    assert loaded.translate_with_details("Привет.")["translation"].numpy() == expected[2]


# ---------------------------------------------------------------------------------- encode


@pytest.fixture(scope="module")
def bert(tiny_bert):
    return tiny_bert


def _pooled_by_hand(pretrainer, tokenizer, text, length, stride):
    """Windows cut in Python, each packed `[CLS] window [SEP]`; the mean pooled output."""
    ids = tokenizer.tokenize(text).numpy().tolist()
    body, windows = length - 2, []
    for start in range(0, len(ids), body - stride):
        windows.append(ids[start : start + body])
        if start + body >= len(ids):
            break
    ragged = tf.ragged.constant(windows, dtype=tf.int32)
    token_ids, mask = pack_token_ids(
        ragged, length, 0, tokenizer.cls_token_id, tokenizer.sep_token_id
    )
    outputs = pretrainer.backbone.predict(
        {
            "token_ids": token_ids.numpy(),
            "padding_mask": mask.numpy().astype("int32"),
            "segment_ids": np.zeros(token_ids.shape, "int32"),
        },
        verbose=0,
    )
    return outputs["pooled_output"].mean(axis=0), outputs["sequence_output"][0], len(windows)


@pytest.mark.parametrize("stride", [0, 3, None])
def test_encode_pools_the_windows_of_a_long_text(bert, stride):
    pretrainer, tokenizer = bert
    module = BertModule(pretrainer, tokenizer, sequence_length=16, stride=stride)
    long_text = " ".join(RUSSIAN[:12])
    texts = [long_text, "Я дома.", ""]
    served = module.encode(tf.constant(texts))
    for row, text in enumerate(texts[:2]):
        pooled, sequence, windows = _pooled_by_hand(pretrainer, tokenizer, text, 16, module.stride)
        np.testing.assert_allclose(served["pooled_output"][row], pooled, atol=1e-5)
        np.testing.assert_allclose(served["sequence_output"][row], sequence, atol=1e-5)
        assert served["windows"][row] == windows
    assert served["windows"].numpy().tolist()[1:] == [1, 0]
    assert served["windows"][0] > 5
    assert not np.any(served["pooled_output"][2].numpy())


def test_encode_refuses_a_stride_the_window_cannot_take(bert):
    pretrainer, tokenizer = bert
    for bad in (-1, 14, 2.0, True):
        with pytest.raises(ValueError, match=r"stride must be an int in \[0, sequence_length"):
            BertModule(pretrainer, tokenizer, sequence_length=16, stride=bad)


# -------------------------------------------------------------------------------- generate


def test_generate_says_when_a_prompt_loses_its_beginning():
    tokenizer = SentencePieceTokenizer.train(TEXTS, 500, verbose=False)
    model = tiny_model(GPT, tokenizer.vocabulary_size(), seed=0)
    module = GPTModule(model, tokenizer, prompt_length=6, max_new_tokens=4)
    fits = tokenizer.detokenize(tokenizer.tokenize("Я изучаю машинное обучение")[:5])
    fits = fits.numpy().decode()
    long_prompt = " ".join(RUSSIAN[:3])
    result = module.generate(tf.constant([fits, long_prompt, ""]), tf.constant(0))
    assert result["truncated"].numpy().tolist() == [False, True, False]
    kept = tokenizer.detokenize(tokenizer.tokenize(long_prompt)[-5:]).numpy()
    assert result["text"].numpy()[1] == kept  # the end of the prompt, as the model saw it
    assert result["text"].numpy()[0] == fits.encode()


# ----------------------------------------------------------------------- classify and tag


def _backbone_outputs(model, tokenizer, windows, length):
    ragged = tf.ragged.constant(windows, dtype=tf.int32)
    token_ids, mask = pack_token_ids(
        ragged, length, 0, tokenizer.cls_token_id, tokenizer.sep_token_id
    )
    return model.predict(
        {
            "token_ids": token_ids.numpy(),
            "padding_mask": mask.numpy().astype("int32"),
            "segment_ids": np.zeros(token_ids.shape, "int32"),
        },
        verbose=0,
    )


def _windows_by_hand(ids, length, stride):
    body, windows = length - 2, []
    for start in range(0, max(len(ids), 1), body - stride):
        windows.append(ids[start : start + body])
        if start + body >= len(ids):
            break
    return windows


def test_classify_averages_the_window_logits(bert, tmp_path):
    from zoo.export import ClassifierModule, export_classifier
    from zoo.models import BertClassifier

    backbone, tokenizer = bert[0].backbone, bert[1]
    keras.utils.set_random_seed(2)
    classifier = BertClassifier(backbone, num_classes=3)
    labels = ["neg", "neu", "pos"]
    module = ClassifierModule(classifier, tokenizer, labels, 16, stride=4)
    long_text = " ".join(RUSSIAN[:10])
    served = module.classify(tf.constant([long_text, "Я дома.", " "]))
    for row, text in enumerate([long_text, "Я дома."]):
        ids = tokenizer.tokenize(text).numpy().tolist()
        windows = _windows_by_hand(ids, 16, 4)
        logits = _backbone_outputs(classifier, tokenizer, windows, 16).mean(axis=0)
        probabilities = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
        np.testing.assert_allclose(served["probabilities"][row], probabilities, atol=1e-5)
        assert served["label"][row].numpy().decode() == labels[int(np.argmax(logits))]
        assert served["windows"][row] == len(windows)
    assert served["windows"][0] > 3
    assert served["label"][2] == b"" and not np.any(served["probabilities"][2].numpy())
    with pytest.raises(ValueError, match="3 distinct names"):
        ClassifierModule(classifier, tokenizer, ["a", "b"], 16)
    with pytest.raises(ValueError, match="needs a zoo.models.BertClassifier"):
        ClassifierModule(bert[0], tokenizer, labels, 16)

    path = str(tmp_path / "classifier")
    export_classifier(classifier, tokenizer, path, labels, 16, stride=4)
    loaded = tf.saved_model.load(path)
    answer = loaded.signatures["classify"](text=tf.constant([long_text, "Я дома."]))
    np.testing.assert_allclose(answer["probabilities"], served["probabilities"][:2], atol=1e-6)
    assert answer["label"].numpy().tolist() == served["label"].numpy()[:2].tolist()


def test_tag_tags_every_word_of_a_long_text(bert, tmp_path):
    from zoo.export import TaggerModule, export_tagger
    from zoo.models import BertTokenClassifier

    backbone, tokenizer = bert[0].backbone, bert[1]
    keras.utils.set_random_seed(3)
    tagger = BertTokenClassifier(backbone, num_classes=4)
    tags = ["O", "B-PER", "I-PER", "B-LOC"]
    module = TaggerModule(tagger, tokenizer, tags, 16, stride=6)
    long_text = " ".join(RUSSIAN[:8])
    served = module.tag(tf.constant([long_text, "Я дома.", ""]))
    pieces = tokenizer.tokenize(long_text).numpy().tolist()
    words = []  # WordPiece: a piece without "##" begins a word
    for piece in pieces:
        if words and tokenizer.id_to_token(piece).startswith("##"):
            words[-1].append(piece)
        else:
            words.append([piece])
    assert served["lengths"].numpy().tolist() == [len(words), 3, 0]  # Я / дома / .
    tokens = [t.decode() for t in served["tokens"][0].numpy()[: len(words)]]
    assert tokens == [tokenizer.detokenize(word).numpy().decode() for word in words]
    assert " ".join(tokens).replace(" .", ".").replace(" ,", ",")[:40] == long_text.lower()[:40]
    # By hand: each piece's logits from the window where it is furthest from an edge.
    windows = _windows_by_hand(pieces, 16, 6)
    logits = _backbone_outputs(tagger, tokenizer, windows, 16)  # (windows, 16, tags)
    step = 16 - 2 - 6
    best = []
    for position in range(len(pieces)):
        candidates = [
            (min(position - k * step, k * step + len(w) - 1 - position), -k)
            for k, w in enumerate(windows)
            if k * step <= position < k * step + len(w)
        ]
        _, minus_k = max(candidates)
        best.append(int(np.argmax(logits[-minus_k, position + minus_k * step + 1])))
    first_pieces = np.cumsum([0] + [len(word) for word in words])[:-1]
    expected_tags = [tags[best[i]] for i in first_pieces]
    assert [t.decode() for t in served["tags"][0].numpy()[: len(tokens)]] == expected_tags
    assert len(windows) > 3

    path = str(tmp_path / "tagger")
    export_tagger(tagger, tokenizer, path, tags, 16, stride=6)
    answer = tf.saved_model.load(path).signatures["tag"](text=tf.constant([long_text]))
    assert answer["tags"].numpy()[0].tolist() == served["tags"].numpy()[0].tolist()
    assert answer["lengths"].numpy().tolist() == [len(words)]
