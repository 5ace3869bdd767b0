import doctest
import importlib.util
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.test_case import assert_all_close, run_layer_test, run_saving_test
from zoo.text import preprocessing

RU = "Я изучаю Машинное Обучение, 2024!"
EN = "I am studying Machine Learning in 2024."
CORPUS = [
    RU,
    "Мы изучаем «машинное» обучение — и это интересно…",
    "машинноее обучени",
    EN,
    "Running dogs run faster; a speling mistake.",
]

BAD_INPUTS = [
    "",
    "   \t\n ",
    b"\xff\xfe",
    b"ok \xc3\x28 \xe2\x82 end",
    "x" * 1_000_000,  # one 1 MB word
    "Слово, word! 🙂 " * 45_000,  # 1 MB of short pieces
    "a\x00b\x07c\x1bd\x7fe",
    "🙂👍🏽 👨‍💻 🏳️‍🌈 1️⃣",
    "Привет world 你好 مرحبا שלום γειά",
]


def decode(tensor):
    """Python str (or nested lists of str) of a string tensor."""
    tensor = tensor.to_list() if isinstance(tensor, tf.RaggedTensor) else tensor.numpy()
    if isinstance(tensor, bytes):
        return tensor.decode("utf-8")
    if isinstance(tensor, np.ndarray):
        tensor = tensor.tolist()

    def walk(value):
        if isinstance(value, list):
            return [walk(item) for item in value]
        return value.decode("utf-8")

    return walk(tensor)


# One layer of each class (the Preprocessor also holds a normalizer, a spell corrector, a
# stop-word filter and a lemmatizer): the slow checks run on these.
ONE_OF_EACH = [
    "normalizer",
    "stop_words",
    "stemmer_ru",
    "lemmatizer_ru",
    "speller_ru",
    "preprocessor",
]


@pytest.fixture(scope="module")
def adapted():
    """One adapted layer of each kind (adapting costs dictionary loads: do it once)."""
    layers = {
        "normalizer": preprocessing.TextNormalizer(remove_digits=True, remove_punctuation=True),
        "stop_words": preprocessing.StopWordFilter(["ru", "en"], extra_words=["Интересно"]),
        "stemmer_ru": preprocessing.Stemmer("ru"),
        "stemmer_en": preprocessing.Stemmer("en"),
        "lemmatizer_ru": preprocessing.Lemmatizer("ru"),
        "lemmatizer_en": preprocessing.Lemmatizer("en"),
        "speller_ru": preprocessing.SpellCorrector("ru"),
        "speller_en": preprocessing.SpellCorrector("en"),
        "preprocessor": preprocessing.Preprocessor(
            "ru", remove_stop_words=True, lemmatize=True, correct_spelling=True
        ),
        "preprocessor_stem": preprocessing.Preprocessor("en", stem=True),
    }
    for layer in layers.values():
        if hasattr(layer, "adapt"):
            layer.adapt(CORPUS, verbose=False)
    return layers


# --- TextNormalizer -------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, text, expected",
    [
        ({}, RU, "я изучаю машинное обучение, 2024!"),
        ({"remove_digits": True}, RU, "я изучаю машинное обучение, !"),
        ({"remove_punctuation": True}, RU, "я изучаю машинное обучение 2024"),
        ({"remove_digits": True, "remove_punctuation": True}, RU, "я изучаю машинное обучение"),
        ({"lowercase": False}, RU, RU),
        ({"collapse_whitespace": False}, "  Два   пробела ", "  два   пробела "),
        ({}, "  Два \t\n  пробела\u00a0\u2003и\u200bтабы ", "два пробела и табы"),
        ({"nfkc": True}, "ﬁＡ²", "fia2"),
        ({"nfkc": False}, "ﬁＡ²", "ﬁａ²"),
        ({"nfkc": False, "remove_digits": True}, "x²½Ⅻ٣3", "x"),
        ({"remove_digits": True}, "x½", "x⁄"),
        (
            {"remove_punctuation": True},
            "«Ёлки» — это… „ёж“ (и) ¿qué? don't",
            "ёлки это ёж и qué don t",
        ),
        ({"remove_punctuation": True}, "слово,слово-слово", "слово слово слово"),
        # Symbols are a separate flag: punctuation removal keeps $, + and emoji.
        ({"remove_punctuation": True}, "$5 + 3 = 8 🙂!", "$5 + 3 = 8 🙂"),
        ({"remove_symbols": True}, "$5+3=8 €, 🙂👍🏽 👨‍💻 🏳️‍🌈!", "5 3 8 , !"),
        ({}, "a\x00b\x07c", "a\ufffdb c"),
        ({}, "", ""),
        ({}, " \t\n ", ""),
    ],
)
def test_normalizer_steps(kwargs, text, expected):
    assert decode(preprocessing.TextNormalizer(**kwargs)([text]))[0] == expected


def test_normalizer_lowercases_every_script():
    layer = preprocessing.TextNormalizer()
    assert decode(layer("ЁЛКА Ёж ЪЫЬ")) == "ёлка ёж ъыь"
    assert decode(layer("ÄÖÜ ΣΟΦΊΑ ΆΛΦΑ İ"))[:9] == "äöü σοφία"[:9]
    assert decode(layer("Ё")) == "ё"


def test_normalizer_replaces_invalid_utf8():
    layer = preprocessing.TextNormalizer()
    assert decode(layer([b"ab\xff\xfecd"]))[0] == "ab\ufffd\ufffdcd"
    assert decode(preprocessing.TextNormalizer(remove_symbols=True)([b"ab\xffcd"]))[0] == "ab cd"


# --- StopWordFilter -------------------------------------------------------------------


def test_stop_words_russian_english_and_custom():
    ru = preprocessing.StopWordFilter("ru")
    assert decode(ru(["я изучаю машинное обучение и это интересно"]))[0] == (
        "изучаю машинное обучение интересно"
    )
    en = preprocessing.StopWordFilter("en")
    assert decode(en(["I am studying the machine learning"]))[0] == "studying machine learning"
    both = preprocessing.StopWordFilter(["ru", "en"], extra_words=["Машинное"])
    # Matching ignores case; whitespace runs collapse to single spaces.
    assert decode(both(["Я  ИЗУЧАЮ машинное\tобучение and THE data"]))[0] == (
        "ИЗУЧАЮ обучение data"
    )
    custom = preprocessing.StopWordFilter(language=None, extra_words=["foo", "бар"])
    assert decode(custom(["foo bar Бар baz"]))[0] == "bar baz"
    assert custom.num_stop_words == 2


def test_stop_words_errors():
    with pytest.raises(ValueError, match="Supported language codes"):
        preprocessing.StopWordFilter("xx")
    with pytest.raises(ValueError, match="extra_words"):
        preprocessing.StopWordFilter(["ru", "и"])
    with pytest.raises(ValueError, match="no stop words"):
        preprocessing.StopWordFilter(None)
    with pytest.raises(ValueError, match="expected strings"):
        preprocessing.StopWordFilter("ru", extra_words=[1])


# --- Stemmer, Lemmatizer, SpellCorrector ----------------------------------------------


def test_stems(adapted):
    assert decode(adapted["stemmer_ru"]([RU]))[0] == "Я изуча Машин Обучен, 2024!"
    assert decode(adapted["stemmer_en"](["Running dogs run, faster!"]))[0] == (
        "Run dog run, faster!"
    )


def test_lemmas(adapted):
    assert decode(adapted["lemmatizer_ru"]([RU]))[0] == "Я изучать Машинный Обучение, 2024!"
    assert decode(adapted["lemmatizer_ru"](["мы изучаем"]))[0] == "мы изучать"
    # simplemma capitalizes proper nouns; the table keeps lowercase lemmas.
    layer = preprocessing.Lemmatizer("ru")
    layer.adapt(["в москве"], verbose=False)
    assert layer.vocabulary == {"москве": "москва"}
    assert decode(adapted["lemmatizer_en"](["dogs are running"]))[0] == "dog are run"


def test_pymorphy3_lemmas():
    if importlib.util.find_spec("pymorphy3") is None:
        pytest.skip("pymorphy3 is not installed")
    layer = preprocessing.Lemmatizer("ru", backend="pymorphy3")
    layer.adapt(["я изучаю машинное обучение"], verbose=False)
    assert decode(layer(["Я изучаю машинное обучение"]))[0] == "Я изучать машинный обучение"


def test_spelling(adapted):
    ru = adapted["speller_ru"]
    assert decode(ru(["машинноее обучени"]))[0] == "машинное обучение"
    # Known words, inflected forms pyspellchecker lacks but simplemma knows, and Latin words
    # in Russian text are kept.
    assert "изучаем" not in ru.vocabulary
    assert decode(ru([RU]))[0] == RU
    assert decode(adapted["speller_en"](["A speling mistake."]))[0] == "A spelling mistake."


def test_spelling_latin_word_in_russian_is_kept():
    layer = preprocessing.SpellCorrector("ru")
    layer.adapt(["ml keras машинноее"], verbose=False)
    assert layer.vocabulary == {"машинноее": "машинное"}


def test_spelling_max_words_checks_the_most_frequent():
    layer = preprocessing.SpellCorrector("en", max_distance=1, max_words=1)
    layer.adapt(["speling speling recieve"], verbose=False)
    assert layer.vocabulary == {"speling": "spelling"}
    layer.adapt(["recieve"], verbose=False)  # a second adapt() extends the table
    assert layer.vocabulary == {"recieve": "receive", "speling": "spelling"}


def test_unseen_words_and_case(adapted):
    stemmer = adapted["stemmer_en"]
    # Lookup ignores case, the case pattern carries over; unseen words are unchanged.
    assert decode(stemmer(["RUNNING Running running rUNNING Jumping, UNSEENWORDS 42 🙂"]))[0] == (
        "RUN Run run run Jumping, UNSEENWORDS 42 🙂"
    )
    lemmatizer = adapted["lemmatizer_ru"]
    assert decode(lemmatizer(["ИЗУЧАЮ Изучаю изучаю Машинное"]))[0] == (
        "ИЗУЧАТЬ Изучать изучать Машинный"
    )


def test_prebuilt_vocabulary():
    layer = preprocessing.Stemmer("en", vocabulary={"Cats": "cat", "same": "same"})
    assert layer.vocabulary == {"cats": "cat"}
    assert decode(layer(["cats, CATS; same!"]))[0] == "cat, CAT; same!"
    layer.adapt(["running"], verbose=False)
    assert layer.vocabulary == {"cats": "cat", "running": "run"}
    pairs = preprocessing.Lemmatizer("ru", vocabulary=[["коты", "кот"]])
    assert decode(pairs("Коты")) == "Кот"


def test_call_before_adapt_raises():
    with pytest.raises(ValueError, match="adapt"):
        preprocessing.Stemmer("en")(["text"])
    with pytest.raises(ValueError, match="adapt"):
        preprocessing.Preprocessor("ru", lemmatize=True)(["text"])
    # Steps without tables work without adapt().
    assert decode(preprocessing.Preprocessor("ru", remove_stop_words=True)([RU]))[0] == (
        "изучаю машинное обучение"
    )


@pytest.mark.parametrize(
    "make_data",
    [
        lambda: ["running dogs", "cats"],
        lambda: np.array([["running dogs"], ["cats"]]),
        lambda: tf.constant(["running dogs", "cats"]),
        lambda: tf.ragged.constant([["running dogs"], ["cats", ""]]),
        lambda: tf.data.Dataset.from_tensor_slices(["running dogs", "cats"]),
        lambda: tf.data.Dataset.from_tensor_slices(["running dogs", "cats"]).batch(1),
        lambda: "running dogs cats",
    ],
)
def test_adapt_inputs(make_data):
    layer = preprocessing.Stemmer("en")
    layer.adapt(make_data(), verbose=False)
    assert layer.vocabulary == {"cats": "cat", "dogs": "dog", "running": "run"}


def test_adapt_errors():
    with pytest.raises(ValueError, match="no words"):
        preprocessing.Stemmer("en").adapt([], verbose=False)
    with pytest.raises(ValueError, match="no words"):
        preprocessing.Stemmer("en").adapt(["", "  42 !!"], verbose=False)
    with pytest.raises(ValueError, match="dataset of strings"):
        preprocessing.Stemmer("en").adapt(tf.data.Dataset.range(3), verbose=False)
    with pytest.raises(ValueError, match=r"tf\.string"):
        preprocessing.Stemmer("en").adapt(np.arange(3), verbose=False)


def test_adapt_shows_progress(capsys):
    layer = preprocessing.Lemmatizer("en")
    layer.adapt(["dogs"], verbose=True)
    assert "lemmatizing" in capsys.readouterr().err


# --- Preprocessor ---------------------------------------------------------------------


def test_preprocessor_chain(adapted):
    layer = adapted["preprocessor"]
    assert decode(layer([RU, "Машинноее обучени!", "Мы изучаем это"])) == [
        "изучать машинный обучение",
        "машинный обучение",
        "изучать",
    ]
    assert decode(adapted["preprocessor_stem"]([EN]))[0] == "i am studi machin learn in"
    assert decode(preprocessing.Preprocessor("en")([EN]))[0] == "i am studying machine learning in"


def test_preprocessor_config_keeps_tables(adapted):
    layer = adapted["preprocessor"]
    config = layer.get_config()
    assert set(config["vocabularies"]) == {"spell_corrector", "lemmatizer"}
    revived = preprocessing.Preprocessor.from_config(config)
    assert revived.get_config() == config
    assert_all_close(revived(CORPUS), layer(CORPUS))


def test_preprocessor_errors():
    with pytest.raises(ValueError, match=r"[Cc]hoose one"):
        preprocessing.Preprocessor("ru", stem=True, lemmatize=True)
    with pytest.raises(ValueError, match="language codes"):
        preprocessing.Preprocessor("xx", stem=True)
    with pytest.raises(ValueError, match="lemmatizer_backend"):
        preprocessing.Preprocessor("ru", lemmatize=True, lemmatizer_backend="spacy")
    with pytest.raises(ValueError, match="language codes"):
        preprocessing.Preprocessor("en", lemmatize=True, lemmatizer_backend="pymorphy3")
    with pytest.raises(ValueError, match="vocabularies"):
        preprocessing.Preprocessor("ru", vocabularies={"tokenizer": []})
    with pytest.raises(ValueError, match="True or False"):
        preprocessing.Preprocessor("ru", stem="yes")


# --- Arguments ------------------------------------------------------------------------


def test_argument_errors():
    with pytest.raises(ValueError, match=r"'ru'.*'en'|language codes"):
        preprocessing.Stemmer("klingon")
    with pytest.raises(ValueError, match="language codes"):
        preprocessing.Lemmatizer("xx")
    with pytest.raises(ValueError, match="backend"):
        preprocessing.Lemmatizer("ru", backend="nltk")
    with pytest.raises(ValueError, match="language codes"):
        preprocessing.SpellCorrector("xx")
    with pytest.raises(ValueError, match="max_distance"):
        preprocessing.SpellCorrector("en", max_distance=3)
    with pytest.raises(ValueError, match="max_words"):
        preprocessing.SpellCorrector("en", max_words=0)
    with pytest.raises(ValueError, match="vocabulary"):
        preprocessing.Stemmer("en", vocabulary="run")
    with pytest.raises(ValueError, match="non-empty"):
        preprocessing.Stemmer("en", vocabulary={"run": ""})
    with pytest.raises(ValueError, match="True or False"):
        preprocessing.TextNormalizer(lowercase="yes")
    with pytest.raises(ValueError, match=r"tf\.string"):
        preprocessing.TextNormalizer()(tf.constant([1.0]))


# --- Shared layer checks, saving, tf.data, shapes -------------------------------------


LAYER_CASES = [
    (preprocessing.TextNormalizer, {"remove_digits": True, "remove_punctuation": True}),
    (preprocessing.StopWordFilter, {"language": ["ru", "en"], "extra_words": ["ну"]}),
    (preprocessing.Stemmer, {"language": "ru", "vocabulary": {"изучаю": "изуча"}}),
    (
        preprocessing.Lemmatizer,
        {"language": "ru", "backend": "simplemma", "vocabulary": {"изучаю": "изучать"}},
    ),
    (
        preprocessing.SpellCorrector,
        {
            "language": "ru",
            "max_distance": 1,
            "max_words": 10,
            "vocabulary": {"обучени": "обучение"},
        },
    ),
    (
        preprocessing.Preprocessor,
        {
            "language": "ru",
            "remove_stop_words": True,
            "stem": True,
            "vocabularies": {"stemmer": [["изучаю", "изуча"]]},
        },
    ),
]


@pytest.mark.parametrize(
    "layer_cls, init_kwargs", LAYER_CASES, ids=[case[0].__name__ for case in LAYER_CASES]
)
def test_layer_checks(layer_cls, init_kwargs):
    run_layer_test(
        layer_cls,
        init_kwargs,
        tf.constant([RU, "", "ну обучени"]),
        expected_output_shape=(3,),
        expected_num_trainable_weights=0,
        run_training_check=False,
        run_precision_check=False,
    )


def test_keras_file_round_trip(adapted):
    inputs = keras.Input(shape=(), dtype="string")
    outputs = {name: layer(inputs) for name, layer in adapted.items()}
    model = keras.Model(inputs, outputs)
    loaded = run_saving_test(model, tf.constant(CORPUS + BAD_INPUTS[:4]))
    assert decode(loaded(tf.constant([RU]))["preprocessor"])[0] == "изучать машинный обучение"


def test_tf_data_map(adapted):
    layer = adapted["preprocessor"]
    expected = decode(layer(CORPUS))
    dataset = tf.data.Dataset.from_tensor_slices(CORPUS)
    unbatched = [item.decode() for item in dataset.map(layer).as_numpy_iterator()]
    batched = [
        item.decode() for batch in dataset.batch(2).map(layer).as_numpy_iterator() for item in batch
    ]
    assert unbatched == expected
    assert batched == expected


def test_shapes_scalar_dense_ragged(adapted):
    for layer in adapted.values():
        expected = decode(layer(tf.constant(CORPUS[:3])))
        assert decode(layer(CORPUS[1])) == expected[1]
        assert decode(layer(tf.constant([CORPUS[:2], [CORPUS[2], ""]])))[0] == expected[:2]
        ragged = layer(tf.ragged.constant([CORPUS[:3], [], [CORPUS[1]]]))
        assert isinstance(ragged, tf.RaggedTensor)
        assert decode(ragged) == [expected, [], [expected[1]]]


def test_bad_inputs_never_fail(adapted):
    for name in ONE_OF_EACH:
        layer = adapted[name]
        outputs = decode(layer(BAD_INPUTS))
        assert len(outputs) == len(BAD_INPUTS)
    normalizer = adapted["normalizer"]
    outputs = decode(normalizer(BAD_INPUTS))
    assert outputs[:3] == ["", "", "\ufffd\ufffd"]
    assert outputs[4] == "x" * 1_000_000
    assert outputs[6] == "a\ufffdb c d e"
    assert outputs[8] == "привет world 你好 مرحبا שלום γειά"


_SERVE_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (registers the ops)

    served = tf.saved_model.load(sys.argv[1])
    texts = tf.constant(json.loads(sys.argv[2]))
    outputs = served.signatures["serving_default"](texts)
    print(json.dumps({k: [s.decode("utf-8", "replace") for s in v.numpy()]
                      for k, v in outputs.items()}))
    assert "zoo" not in sys.modules
    """
)


def test_saved_model_in_fresh_process(adapted, tmp_path):
    import json

    texts = [*CORPUS, "", "   ", "🙂 Привет world"]
    module = tf.Module()
    module.layers = {name: adapted[name] for name in ONE_OF_EACH}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def serve(texts):
        return {name: layer(texts) for name, layer in module.layers.items()}

    module.serve = serve
    path = str(tmp_path / "saved")
    tf.saved_model.save(module, path, signatures={"serving_default": serve})
    expected = {name: decode(adapted[name](tf.constant(texts))) for name in ONE_OF_EACH}
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, "-c", _SERVE_SCRIPT, path, json.dumps(texts)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    served = json.loads(result.stdout.strip().splitlines()[-1])
    assert served == expected


def test_docstring_examples():
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    globs = dict(vars(preprocessing))
    for name in ["TextNormalizer", "StopWordFilter", "Stemmer", "Lemmatizer"]:
        for test in finder.find(getattr(preprocessing, name), name, globs=globs):
            runner.run(test)
    for name in ["SpellCorrector", "Preprocessor"]:
        for test in finder.find(getattr(preprocessing, name), name, globs=globs):
            runner.run(test)
    assert runner.failures == 0 and runner.tries >= 6
