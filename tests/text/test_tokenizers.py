"""Tests of zoo.text.tokenizers: training, in-graph tokenization, round trips, bad input."""

import os
import random

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.test_case import run_layer_test, run_saving_test, to_numpy
from zoo.text import tokenizers

RUSSIAN = [
    "Я изучаю машинное обучение.",
    "Мы читаем книгу о нейронных сетях.",
    "Она пишет письмо своему брату.",
    "Кошка спит на тёплом ковре, а собака смотрит в окно.",
    "Вчера шёл сильный дождь, и мы остались дома!",
    "Трансформер состоит из кодировщика и декодировщика.",
    "Внимание — это взвешенная сумма значений.",
    "Сколько стоит билет до Москвы? Двести рублей.",
    "Ёжик в тумане искал свою лошадку.",
    "Студенты изучают языковые модели и обучение с учителем.",
]
ENGLISH = [
    "I study machine learning.",
    "We read a book about neural networks.",
    "She writes a letter to her brother.",
    "The cat sleeps on the warm carpet, and the dog looks out of the window.",
    "Yesterday it rained heavily, so we stayed at home!",
    "A transformer consists of an encoder and a decoder.",
    "Attention is a weighted sum of values.",
    "How much is a ticket to Moscow? Two hundred roubles.",
    "The hedgehog in the fog was looking for his horse.",
    "Students study language models and supervised learning.",
]
CORPUS = RUSSIAN + ENGLISH

# Text that must never raise (issue item 5).
BAD_INPUT = [
    "",
    "   \t\n ",
    b"\xff\xfe",
    b"abc\xc3(\xa0\xa1def",
    "control \x00\x01\x07\x1b[0m chars\x7f",
    "emoji 🙂👍🏽👨‍👩‍👧 and flags 🇷🇺",
    "Mixed: русский, English, 中文, العربية, हिन्दी, ελληνικά.",
    "[CLS] looks special [PAD] but is text",
]
# Text every tokenizer must give back (up to its normalization).
ROUND_TRIP = [
    "Я изучаю машинное обучение 🙂",
    "Mixed scripts: Привет, world! 中文 ελληνικά",
    "emoji 👍🏽👨‍👩‍👧 🇷🇺",
    "",
]

# name -> (class, vocabulary_size for CORPUS, extra train options)
KINDS = {
    "character": (tokenizers.CharacterTokenizer, 330, {}),
    "word": (tokenizers.WordTokenizer, 300, {}),
    "wordpiece": (tokenizers.WordPieceTokenizer, 260, {}),
    "bpe": (tokenizers.BytePairTokenizer, 400, {}),
    "sentencepiece": (tokenizers.SentencePieceTokenizer, 420, {"model_type": "bpe"}),
}
EXACT_ROUND_TRIP = ("character", "bpe")

_CACHE = {}


def trained(name, **kwargs):
    """A tokenizer trained on CORPUS (cached per module, training is the slow part)."""
    key = (name, tuple(sorted(kwargs.items())))
    if key not in _CACHE:
        cls, size, options = KINDS[name]
        _CACHE[key] = cls.train(CORPUS, size, verbose=False, **{**options, **kwargs})
    return _CACHE[key]


def with_sequence_length(tokenizer, sequence_length):
    config = tokenizer.get_config()
    config["sequence_length"] = sequence_length
    config.pop("name")
    return type(tokenizer).from_config(config)


def assert_same_ids(actual, expected):
    """Exact equality of dense or ragged ids (`assert_all_close` needs uniform rows)."""
    actual, expected = to_numpy(actual), to_numpy(expected)
    actual = actual.tolist() if isinstance(actual, np.ndarray) else actual
    expected = expected.tolist() if isinstance(expected, np.ndarray) else expected
    assert actual == expected


def as_text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else value


names = pytest.mark.parametrize("name", list(KINDS))


@names
def test_train_is_deterministic(name):
    cls, size, options = KINDS[name]
    first = cls.train(CORPUS, size, verbose=False, **options)
    second = cls.train(list(reversed(CORPUS))[::-1], size, verbose=False, **options)
    assert first.get_vocabulary() == second.get_vocabulary()
    assert first.get_config() == {**second.get_config(), "name": first.name}
    assert first.vocabulary_size() <= size
    assert first.get_vocabulary()[: len(tokenizers.SPECIAL_TOKENS)] == list(
        tokenizers.SPECIAL_TOKENS
    )


@names
def test_train_from_files_and_datasets(name, tmp_path):
    cls, size, options = KINDS[name]
    reference = trained(name).get_vocabulary()
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(CORPUS) + "\n", encoding="utf-8")
    half = tmp_path / "a.txt", tmp_path / "b.txt"
    half[0].write_text("\n".join(CORPUS[:10]) + "\n", encoding="utf-8")
    half[1].write_text("\n".join(CORPUS[10:]), encoding="utf-8")
    sources = [
        str(path),
        [str(p) for p in half],
        np.array(CORPUS),
        tf.data.Dataset.from_tensor_slices(CORPUS),
        tf.data.Dataset.from_tensor_slices(CORPUS).batch(7),
    ]
    for data in sources:
        tokenizer = cls.train(data, size, verbose=False, **options)
        assert tokenizer.get_vocabulary() == reference, f"source {type(data).__name__}"


@names
@pytest.mark.parametrize("sequence_length", [None, 12])
def test_layer_config_round_trip(name, sequence_length):
    tokenizer = with_sequence_length(trained(name), sequence_length)
    config = tokenizer.get_config()
    init_kwargs = {k: v for k, v in config.items() if k not in ("name", "dtype")}
    data = tf.constant(["Я изучаю обучение.", "I study learning!", ""])
    output = run_layer_test(
        type(tokenizer),
        init_kwargs=init_kwargs,
        input_data=data,
        expected_output_shape=(3, sequence_length) if sequence_length else None,
        expected_num_trainable_weights=0,
        run_training_check=False,
        run_precision_check=False,
    )
    assert output.dtype == tf.int32
    assert_same_ids(output, tokenizer(data))


@names
def test_keras_model_round_trip(name):
    tokenizer = with_sequence_length(trained(name), 16)
    inputs = keras.Input(shape=(), dtype="string")
    model = keras.Model(inputs, tokenizer(inputs))
    data = tf.constant(ROUND_TRIP + ["Кошка спит.", "The cat sleeps."])
    loaded = run_saving_test(model, data)
    assert_same_ids(loaded(data), tokenizer(data))


@names
def test_save_and_load_tokenizer(name, tmp_path):
    tokenizer = trained(name)
    tokenizer.save(str(tmp_path / "tok"))
    assert os.path.isfile(tmp_path / "tok" / "config.json")
    for restored in (
        tokenizers.load_tokenizer(str(tmp_path / "tok")),
        tokenizers.Tokenizer.load(str(tmp_path / "tok")),
    ):
        assert type(restored) is type(tokenizer)
        assert restored.get_vocabulary() == tokenizer.get_vocabulary()
        data = tf.constant(CORPUS + BAD_INPUT)
        assert_same_ids(restored(data), tokenizer(data))
    with pytest.raises(ValueError, match="config.json"):
        tokenizers.load_tokenizer(str(tmp_path))


@names
def test_tf_data_batched_and_unbatched(name):
    tokenizer = trained(name)
    expected = tokenizer(tf.constant(CORPUS)).to_list()
    dataset = tf.data.Dataset.from_tensor_slices(CORPUS)
    unbatched = [row.numpy().tolist() for row in dataset.map(tokenizer)]
    assert unbatched == expected
    batched = []
    for batch in dataset.batch(6).map(tokenizer):
        batched.extend(batch.to_list())
    assert batched == expected
    dense = with_sequence_length(tokenizer, 10)
    for batch in dataset.batch(6, drop_remainder=True).map(dense):
        assert batch.shape == (6, 10) and batch.dtype == tf.int32


@names
def test_ragged_and_dense_outputs(name):
    tokenizer = trained(name)
    data = tf.constant(CORPUS[:4])
    ragged = tokenizer(data)
    assert isinstance(ragged, tf.RaggedTensor) and ragged.dtype == tf.int32
    assert ragged.shape.rank == 2
    dense = tokenizer.tokenize(data, sequence_length=6)
    assert dense.shape == (4, 6)
    assert_same_ids(dense, ragged.to_tensor(shape=[4, 6], default_value=tokenizer.pad_token_id))
    long = tokenizer.tokenize(tf.constant(["a"]), sequence_length=50).numpy()
    assert (long[0, 1:] == tokenizer.pad_token_id).all() or len(tokenizer("a").numpy()) > 1
    scalar = tokenizer(tf.constant(CORPUS[0]))
    assert scalar.shape.rank == 1
    assert scalar.numpy().tolist() == ragged[0].numpy().tolist()
    assert tokenizer(CORPUS[0]).numpy().tolist() == scalar.numpy().tolist()
    nested = tokenizer(tf.ragged.constant([CORPUS[:3], CORPUS[3:4]]))
    assert nested.shape.rank == 3
    assert nested.to_list()[0] == ragged.to_list()[:3]
    empty = tokenizer(tf.constant([""]))
    assert empty.to_list() == [[]]


@names
def test_detokenize(name):
    tokenizer = trained(name)
    ids = tokenizer(tf.constant(ROUND_TRIP))
    text = [as_text(t) for t in tokenizer.detokenize(ids).numpy()]
    if name in EXACT_ROUND_TRIP:
        assert text == ROUND_TRIP
    elif name == "sentencepiece":
        # SentencePiece's NFKC normalization leaves these texts as they are.
        assert text == ROUND_TRIP
    else:
        # Word-level tokenizers: lowercased, in-vocabulary words, up to whitespace.
        known = tokenizer(tf.constant(CORPUS)).flat_values.numpy()
        assert (known != tokenizer.unk_token_id).all()
        back = [as_text(t) for t in tokenizer.detokenize(tokenizer(CORPUS)).numpy()]
        assert ["".join(t.split()) for t in back] == ["".join(t.lower().split()) for t in CORPUS]
    # 1-D ids give a scalar; dense padded ids lose their padding.
    single = tokenizer.detokenize(tokenizer(CORPUS[0]))
    assert single.shape == () and as_text(single.numpy()) == as_text(
        tokenizer.detokenize(tokenizer([CORPUS[0]])).numpy()[0]
    )
    padded = tokenizer.tokenize(CORPUS[:3], sequence_length=80)
    assert_same_ids(tokenizer.detokenize(padded), tokenizer.detokenize(tokenizer(CORPUS[:3])))
    # Special tokens are dropped unless asked for.
    with_specials = tf.concat(
        [tf.constant([[tokenizer.cls_token_id]]), tokenizer([CORPUS[10]]).to_tensor()], axis=1
    )
    plain = as_text(tokenizer.detokenize(with_specials).numpy()[0])
    assert "[CLS]" not in plain
    if name != "sentencepiece":  # SentencePiece decodes control pieces to "".
        kept = as_text(tokenizer.detokenize(with_specials, skip_special_tokens=False).numpy()[0])
        assert "[CLS]" in kept
    # Works in tf.data and tf.function too.
    dataset = tf.data.Dataset.from_tensor_slices(CORPUS).batch(4).map(tokenizer)
    for batch in dataset.map(tokenizer.detokenize).take(1):
        assert batch.shape == (4,)


@pytest.mark.parametrize("name", EXACT_ROUND_TRIP)
def test_exact_round_trip_of_any_unicode(name):
    tokenizer = trained(name)
    rng = random.Random(0)
    alphabet = "aZ ё—…«»\n\t  12.,!?😀👍🏽中文\u00a0\u200b\u0301é\x00\x01\x7f\ufeffß"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(200)]
    texts.append("".join(chr(c) for c in range(1, 0x800)))
    back = tokenizer.detokenize(tokenizer(tf.constant(texts))).numpy()
    assert [as_text(t) for t in back] == texts


def test_sentencepiece_round_trip_is_normalized():
    tokenizer = trained("sentencepiece")
    back = tokenizer.detokenize(tokenizer(["ﬁne  ①  Ｆｕｌｌ"])).numpy()[0]
    assert as_text(back) == "fine 1 Full"


@names
def test_special_token_ids(name):
    tokenizer = trained(name)
    ids = [
        tokenizer.pad_token_id,
        tokenizer.unk_token_id,
        tokenizer.cls_token_id,
        tokenizer.sep_token_id,
        tokenizer.mask_token_id,
        tokenizer.bos_token_id,
        tokenizer.eos_token_id,
    ]
    assert ids == list(range(7))
    assert tokenizer.reserved_tokens[:7] == list(tokenizers.SPECIAL_TOKENS)
    # Reserved tokens are never produced from text.
    produced = tokenizer(tf.constant(BAD_INPUT + CORPUS)).flat_values.numpy()
    assert not np.isin(produced, [0, 2, 3, 4, 5, 6]).any()


@names
def test_custom_reserved_tokens(name):
    cls, size, options = KINDS[name]
    reserved = ["[PAD]", "[UNK]", "<sep>"]
    tokenizer = cls.train(CORPUS, size, reserved_tokens=reserved, verbose=False, **options)
    assert tokenizer.get_vocabulary()[:3] == reserved
    assert (tokenizer.pad_token_id, tokenizer.unk_token_id) == (0, 1)
    assert tokenizer.cls_token_id is None and tokenizer.eos_token_id is None
    assert tokenizer.token_to_id("<sep>") == 2


@names
def test_id_to_token_and_token_to_id(name):
    tokenizer = trained(name)
    vocabulary = tokenizer.get_vocabulary()
    assert len(vocabulary) == tokenizer.vocabulary_size()
    for index, token in enumerate(vocabulary):
        assert tokenizer.id_to_token(index) == token
        assert tokenizer.token_to_id(token) == index
    with pytest.raises(ValueError, match="not in the vocabulary"):
        tokenizer.token_to_id("no such token at all")
    with pytest.raises(ValueError, match="outside the vocabulary"):
        tokenizer.id_to_token(tokenizer.vocabulary_size())
    ids = tokenizer(tf.constant(CORPUS)).flat_values.numpy()
    assert ids.min() >= 0 and ids.max() < tokenizer.vocabulary_size()


@names
def test_bilingual_vocabulary(name):
    tokenizer = trained(name)
    vocabulary = tokenizer.get_vocabulary()
    if name == "bpe":
        vocabulary = [tokenizers._bytes.byte_level_to_bytes(t) or b"" for t in vocabulary]
        vocabulary = [t.decode("utf-8", errors="ignore") for t in vocabulary]
    has_cyrillic = any(any("а" <= c <= "я" for c in t) for t in vocabulary)
    has_latin = any(any("a" <= c <= "z" for c in t) for t in vocabulary)
    assert has_cyrillic and has_latin
    for sentences in (RUSSIAN, ENGLISH):
        ids = tokenizer(tf.constant(sentences)).flat_values.numpy()
        assert (ids != tokenizer.unk_token_id).mean() > 0.95
        # Subword units compress both languages.
        if name in ("wordpiece", "bpe", "sentencepiece"):
            characters = sum(len(s) for s in sentences)
            assert len(ids) < 0.8 * characters


@names
def test_bad_input_never_raises(name):
    tokenizer = trained(name)
    huge = ("Очень длинная строка with words 🙂 " * 40000)[: 1 << 20]
    data = tf.constant([*[t if isinstance(t, bytes) else t.encode() for t in BAD_INPUT], huge])
    ids = tokenizer(data)
    assert ids.shape[0] == len(data)
    assert (ids[0].shape == (0,) and ids[1].shape[0] == 0) or name in ("character", "bpe")
    assert ids.flat_values.numpy().max() < tokenizer.vocabulary_size()
    text = tokenizer.detokenize(ids).numpy()
    for value in text:
        value.decode("utf-8")  # always valid UTF-8
    if name in EXACT_ROUND_TRIP:
        assert as_text(text[2]) == "\ufffd\ufffd"  # invalid bytes -> U+FFFD
        assert as_text(text[-1]) == huge
    # The same inside tf.data, one element at a time (the 1 MB string once is enough).
    for element in tf.data.Dataset.from_tensor_slices(data[:-1]).map(tokenizer):
        assert element.dtype == tf.int32


def test_character_without_byte_fallback_uses_unk():
    tokenizer = tokenizers.CharacterTokenizer.train(CORPUS, 60, byte_fallback=False, verbose=False)
    ids = tokenizer("Ж🙂").numpy().tolist()
    assert tokenizer.unk_token_id in ids
    assert "<0x00>" not in tokenizer.get_vocabulary()


def test_lowercase_option():
    tokenizer = tokenizers.CharacterTokenizer.train(CORPUS, 330, lowercase=True, verbose=False)
    assert_same_ids(tokenizer("ПРИВЕТ World"), tokenizer("привет world"))
    back = tokenizer.detokenize(tokenizer("ЁЖИК")).numpy().decode()
    assert back == "ёжик"


def test_bpe_agrees_with_hf_tokenizers():
    tokenizer = trained("bpe")
    hf = tokenizers.BytePairTokenizer.hf_tokenizer(
        tokenizer.get_vocabulary(), tokenizer.merges, tokenizer.reserved_tokens
    )
    rng = random.Random(1)
    alphabet = "abc xyzабв ё—…«»\n\t  1234.,!?😀👍🏽中文  \u00a0\u200b\u0301é'"
    texts = CORPUS + [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60))) for _ in range(300)
    ]
    ours = tokenizer(tf.constant(texts)).to_list()
    reference = [encoding.ids for encoding in hf.encode_batch(texts)]
    assert ours == reference


def test_bpe_agrees_with_hf_on_real_text(shared_data_dir):
    lines = []
    for file_name in ("tinyshakespeare.txt", "ru-literature-dostoevsky-besy.txt"):
        with open(os.path.join(shared_data_dir, file_name), encoding="utf-8") as f:
            lines.extend(f.read().splitlines()[:1500])
    tokenizer = tokenizers.BytePairTokenizer.train(lines, 1000, verbose=False)
    hf = tokenizers.BytePairTokenizer.hf_tokenizer(
        tokenizer.get_vocabulary(), tokenizer.merges, tokenizer.reserved_tokens
    )
    ours = tokenizer(tf.constant(lines)).to_list()
    reference = [encoding.ids for encoding in hf.encode_batch(lines)]
    agreement = np.mean([a == b for a, b in zip(ours, reference)])
    assert agreement == 1.0, f"{agreement:.4%} of lines agree with HF"


def test_progress_bar_on_large_corpus(capsys):
    texts = [f"line {i} строка" for i in range(10_050)]
    tokenizers.CharacterTokenizer.train(texts, 300, verbose=True)
    assert "reading corpus" in capsys.readouterr().err
    tokenizers.CharacterTokenizer.train(texts, 300, verbose=False)
    assert "reading corpus" not in capsys.readouterr().err


@names
def test_wrong_arguments_raise_helpful_errors(name, tmp_path):
    cls, size, options = KINDS[name]
    for empty in ([], [""], ["  ", "\n"], tf.data.Dataset.from_tensor_slices([""])):
        with pytest.raises(ValueError, match="empty corpus"):
            cls.train(empty, size, verbose=False, **options)
    with pytest.raises(ValueError, match=r"vocabulary_size=5\b.*at least"):
        cls.train(CORPUS, 5, verbose=False, **options)
    with pytest.raises(ValueError, match="duplicates"):
        cls.train(CORPUS, size, reserved_tokens=["[PAD]", "[PAD]"], verbose=False, **options)
    with pytest.raises(ValueError, match="non-empty string"):
        cls.train(CORPUS, size, reserved_tokens=["[PAD]", ""], verbose=False, **options)
    with pytest.raises(ValueError, match="list or tuple"):
        cls.train(CORPUS, size, reserved_tokens="[PAD]", verbose=False, **options)
    with pytest.raises(ValueError, match="not a path"):
        cls.train(str(tmp_path / "missing.txt"), size, verbose=False, **options)
    with pytest.raises(ValueError, match="tf.string"):
        cls.train(tf.data.Dataset.range(3), size, verbose=False, **options)
    config = {k: v for k, v in trained(name).get_config().items() if k != "name"}
    with pytest.raises(ValueError, match="sequence_length=0"):
        cls(**{**config, "sequence_length": 0})
    with pytest.raises(ValueError, match="tf.string"):
        trained(name).tokenize(tf.constant([1, 2]))


def test_constructor_arguments_are_checked():
    with pytest.raises(ValueError, match="unknown_model_type"):
        tokenizers.SentencePieceTokenizer.train(CORPUS, 400, model_type="unknown_model_type")
    with pytest.raises(ValueError, match=r"300 vs|character_coverage"):
        tokenizers.SentencePieceTokenizer.train(CORPUS, 280, verbose=False)
    with pytest.raises(ValueError, match="alphabet alone needs"):
        tokenizers.WordPieceTokenizer.train(CORPUS, 40, verbose=False)
    with pytest.raises(ValueError, match="byte tokens"):
        tokenizers.CharacterTokenizer(["[PAD]", "a", "b"])
    with pytest.raises(ValueError, match="multi-character"):
        tokenizers.CharacterTokenizer(["[PAD]", "ab"], byte_fallback=False)
    with pytest.raises(ValueError, match="without '\\[UNK\\]'"):
        tokenizers.WordTokenizer(["[PAD]", "word"])
    with pytest.raises(ValueError, match="WordPieceTokenizer .* without '\\[UNK\\]'"):
        tokenizers.WordPieceTokenizer(["[PAD]", "word", "##s"])
    with pytest.raises(ValueError, match="duplicate"):
        tokenizers.WordPieceTokenizer(["[UNK]", "a", "a"])
    with pytest.raises(ValueError, match="single-byte tokens"):
        tokenizers.BytePairTokenizer(["[UNK]", "a"], [], reserved_tokens=["[UNK]"])
    bpe = trained("bpe")
    with pytest.raises(ValueError, match="merges"):
        tokenizers.BytePairTokenizer(bpe.get_vocabulary(), ["x y z"])
    with pytest.raises(ValueError, match="ModelProto"):
        tokenizers.SentencePieceTokenizer(b"not a model")
    with pytest.raises(ValueError, match="normalization_form"):
        tokenizers.WordTokenizer(["[UNK]"], normalization_form="NFX")


@pytest.mark.parametrize("model_type", ["unigram", "bpe"])
def test_sentencepiece_model_types(model_type):
    tokenizer = tokenizers.SentencePieceTokenizer.train(
        CORPUS, 420, model_type=model_type, verbose=False
    )
    assert tokenizer.get_vocabulary()[:7] == list(tokenizers.SPECIAL_TOKENS)
    text = "Я изучаю машинное обучение 🙂"
    assert as_text(tokenizer.detokenize(tokenizer(text)).numpy()) == text


@names
def test_detokenize_of_ids_outside_the_vocabulary(name):
    tokenizer = trained(name)
    size = tokenizer.vocabulary_size()
    good = tokenizer(CORPUS[0])[:3]
    ids = tf.concat([good, tf.constant([size + 99, -4], tf.int32)], axis=0)
    message = rf"received id {size + 99} outside the vocabulary \[0, {size}\) \(2 such ids\)"
    with pytest.raises(ValueError, match=message):
        tokenizer.detokenize(ids)
    with pytest.raises(ValueError, match=r"received id -4 outside"):
        tokenizer.detokenize(tf.ragged.constant([[int(good[0])], [-4]]))
    # errors="replace" keeps the lenient behaviour: such ids are dropped.
    expected = tokenizer.detokenize(good).numpy()
    assert tokenizer.detokenize(ids, errors="replace").numpy() == expected
    # In graphs (tf.function, SavedModels, tf.data) the check is a tf.debugging.Assert.
    detokenize = tf.function(lambda ids: tokenizer.detokenize(ids))
    with pytest.raises(
        tf.errors.InvalidArgumentError, match=rf"outside the vocabulary \[0, {size}\)"
    ):
        detokenize(ids[tf.newaxis])
    assert detokenize(good[tf.newaxis]).numpy()[0] == expected
    with pytest.raises(ValueError, match="errors='ignore'"):
        tokenizer.detokenize(good, errors="ignore")


def test_base_reaches_pretrained_through_the_registry_not_an_import():
    # base -> pretrained -> (the subclasses) -> base was an import cycle: base must not
    # import pretrained, and Tokenizer.from_preset / load_tokenizer reach it through the
    # loader the package registers.
    import ast

    from zoo.text.tokenizers import base, from_preset

    with open(base.__file__, encoding="utf-8") as file:
        tree = ast.parse(file.read())
    imported = {
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    assert not any(name and "pretrained" in name for name in imported), imported
    assert base._PRESET_LOADERS["from_preset"] is from_preset


@pytest.mark.parametrize(
    "cls, unit, minimum",
    [
        (tokenizers.CharacterTokenizer, "256 byte tokens", len(tokenizers.SPECIAL_TOKENS) + 256),
        (tokenizers.WordTokenizer, "1 word", len(tokenizers.SPECIAL_TOKENS) + 1),
        (tokenizers.WordPieceTokenizer, "1 character", len(tokenizers.SPECIAL_TOKENS) + 1),
        (tokenizers.BytePairTokenizer, "256 byte tokens", len(tokenizers.SPECIAL_TOKENS) + 256),
    ],
)
def test_train_checks_the_vocabulary_size_before_reading_data(cls, unit, minimum):
    # The shared `_check_training` preamble: the message names the class and the minimum.
    with pytest.raises(ValueError, match=rf"{cls.__name__}.*{minimum}.*{unit}"):
        cls.train(["a b c"], minimum - 1, verbose=False)
    with pytest.raises(ValueError, match="reserved_tokens"):
        cls.train(["a b c"], minimum, reserved_tokens="[PAD]", verbose=False)
    with pytest.raises(ValueError, match="normalization_form"):
        cls.train(["a b c"], minimum, normalization_form="NFX", verbose=False)


def test_sentencepiece_add_eos_appends_the_eos_id_and_round_trips(tmp_path):
    tokenizer = trained("sentencepiece")
    # Off by default: no eos, and the config (hence saved files) has no add_eos key.
    assert tokenizer.add_eos is False and "add_eos" not in tokenizer.get_config()
    data = tf.constant(["Я изучаю обучение.", "I study learning!", ""])
    plain = tokenizer(data).to_list()
    assert all(tokenizer.eos_token_id not in row for row in plain)
    config = {**tokenizer.get_config(), "add_eos": True}
    config.pop("name")
    with_eos = tokenizers.SentencePieceTokenizer.from_config(config)
    assert with_eos(data).to_list() == [row + [tokenizer.eos_token_id] for row in plain]
    # A scalar input and a batch give the same ids; detokenize drops the eos.
    assert with_eos(data[0]).numpy().tolist() == plain[0] + [tokenizer.eos_token_id]
    back = with_eos.detokenize(with_eos(data)).numpy()
    np.testing.assert_array_equal(back, tokenizer.detokenize(tokenizer(data)).numpy())
    # get_config / from_config and save / load keep the option.
    assert with_eos.get_config()["add_eos"] is True
    with_eos.save(str(tmp_path / "tok"))
    restored = tokenizers.load_tokenizer(str(tmp_path / "tok"))
    assert restored.add_eos is True
    assert restored(data).to_list() == with_eos(data).to_list()
    # Dense output: padded after the eos; a longer text is cut at the end (eos lost).
    dense = with_eos.tokenize(data, sequence_length=len(plain[0]) + 3).numpy()
    assert dense[0].tolist() == plain[0] + [tokenizer.eos_token_id] + [0, 0]
    assert dense[2].tolist()[:2] == [tokenizer.eos_token_id, tokenizer.pad_token_id]


def test_sentencepiece_add_eos_needs_an_eos_token():
    tokenizer = trained("sentencepiece")
    with pytest.raises(ValueError, match="add_eos=True.*'eos' role"):
        tokenizers.SentencePieceTokenizer(
            tokenizer.proto, add_eos=True, special_tokens_map={"unk": "[UNK]"}
        )
    with pytest.raises(ValueError, match="add_eos='yes'"):
        tokenizers.SentencePieceTokenizer(tokenizer.proto, add_eos="yes")
