"""Tests of zoo.data.loaders: local TSV/text files, TFDS (mocked, offline), errors."""

import gzip
import zlib

import pytest
import tensorflow as tf

from zoo.data.loaders import hash_split, load_text_dataset, load_translation_pairs

ENGLISH = [f"sentence number {i}" for i in range(300)]
RUSSIAN = [f"предложение номер {i}" for i in range(300)]


def decoded(dataset):
    def decode(value):
        return value.numpy().decode("utf-8")

    return [tuple(map(decode, e)) if isinstance(e, tuple) else decode(e) for e in dataset]


@pytest.fixture
def tsv_path(tmp_path):
    """An english<TAB>russian<TAB>attribution file, like ../shared/data/*.tsv."""
    path = tmp_path / "pairs.tsv"
    lines = [f"{en}\t{ru}\tsource: test" for en, ru in zip(ENGLISH, RUSSIAN)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_tsv_columns_and_direction(tsv_path):
    pairs = decoded(load_translation_pairs(tsv_path, "all", "ru-en", columns=("en", "ru")))
    assert pairs == list(zip(RUSSIAN, ENGLISH))
    pairs = decoded(load_translation_pairs(str(tsv_path), "all", "en-ru", columns=("en", "ru")))
    assert pairs == list(zip(ENGLISH, RUSSIAN))
    # Default columns: the first two, in file order; explicit indices choose others.
    assert decoded(load_translation_pairs(tsv_path, "all"))[0] == (ENGLISH[0], RUSSIAN[0])
    pairs = load_translation_pairs(tsv_path, "all", source_column=2, target_column=0)
    assert decoded(pairs)[0] == ("source: test", ENGLISH[0])
    assert pairs.element_spec == (tf.TensorSpec([], tf.string), tf.TensorSpec([], tf.string))


def test_tsv_hash_split_is_deterministic_and_disjoint(tsv_path):
    splits = {
        split: decoded(load_translation_pairs(tsv_path, split, columns=("en", "ru")))
        for split in ("train", "validation", "test")
    }
    sources = [set(source for source, _ in pairs) for pairs in splits.values()]
    assert sum(map(len, sources)) == 300 and len(set().union(*sources)) == 300
    assert 200 < len(splits["train"]) < 280 and splits["validation"] and splits["test"]
    # The split of a pair is crc32 of its source side, the same on every run and machine.
    for split, pairs in splits.items():
        for source, _ in pairs:
            assert hash_split(source) == split
            position = zlib.crc32(source.encode("utf-8")) / 2**32
            expected = "train" if position < 0.8 else "validation" if position < 0.9 else "test"
            assert split == expected
    again = decoded(load_translation_pairs(tsv_path, "test", columns=("en", "ru")))
    assert again == splits["test"]
    # Configurable: other fractions, and hashing the target side.
    half = decoded(load_translation_pairs(tsv_path, "test", split_fractions=(0.5, 0, 0.5)))
    assert 100 < len(half) < 200
    columns = ("en", "ru")
    by_target = load_translation_pairs(
        tsv_path, "test", "ru-en", columns=columns, split_key="target"
    )
    by_source = load_translation_pairs(tsv_path, "test", "en-ru", columns=columns)
    assert decoded(by_target) == [(ru, en) for en, ru in decoded(by_source)]


def test_tsv_malformed_lines_are_skipped_with_a_count(tmp_path):
    path = tmp_path / "messy.tsv.gz"
    content = (
        "\ufeffhello\tпривет\n"
        "no tab on this line\n"
        "\n"
        "empty target\t \n"
        "bye\tпока\r\n"
        "bad bytes \xff\tплохие\n"
    )
    data = content.encode("utf-8").replace("\xff".encode(), b"\xff")
    with gzip.open(path, "wb") as file:
        file.write(data)
    with pytest.warns(UserWarning, match=r"Skipped 2 malformed line\(s\).*\[2, 4\]"):
        pairs = decoded(load_translation_pairs(path, "all"))
    assert pairs == [("hello", "привет"), ("bye", "пока"), ("bad bytes \ufffd", "плохие")]


def test_split_files_dict_and_header(tmp_path):
    train, test = tmp_path / "train.tsv", tmp_path / "test.tsv"
    train.write_text("ru\ten\nпривет\thello\n", encoding="utf-8")
    test.write_text("ru\ten\nпока\tbye\n", encoding="utf-8")
    source = {"train": train, "test": test}
    pairs = load_translation_pairs(source, "test", "en-ru", columns=("ru", "en"), skip_header=True)
    assert decoded(pairs) == [("bye", "пока")]
    with pytest.raises(ValueError, match=r"names the splits \['test', 'train'\]"):
        load_translation_pairs(source, "validation")


def test_text_files(tmp_path):
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_bytes("line one\n\n   \nстрока два\r\n".encode() + b"broken \xfe\n")
    second.write_text("third\u2028still third\n", encoding="utf-8")
    assert decoded(load_text_dataset(first, "all")) == ["line one", "строка два", "broken \ufffd"]
    lines = decoded(load_text_dataset([first, str(second)], "all"))
    assert lines[-1] == "third\u2028still third" and len(lines) == 4
    many = tmp_path / "many.txt"
    many.write_text("\n".join(ENGLISH), encoding="utf-8")
    splits = [decoded(load_text_dataset(many, split)) for split in ("train", "validation", "test")]
    assert sorted(line for lines in splits for line in lines) == sorted(ENGLISH)
    assert splits[2] == [line for line in ENGLISH if hash_split(line) == "test"]
    dataset = load_text_dataset({"train": [first, second], "test": many}, "train")
    assert len(decoded(dataset)) == 4
    assert dataset.element_spec == tf.TensorSpec([], tf.string)


def test_errors_say_what_was_received(tmp_path, tsv_path):
    with pytest.raises(ValueError, match="Unknown source 'no/such/file.tsv'"):
        load_translation_pairs("no/such/file.tsv")
    with pytest.raises(ValueError, match=r"Text file not found: .*missing\.txt"):
        load_text_dataset([tsv_path, tmp_path / "missing.txt"])
    with pytest.raises(ValueError, match="is a directory"):
        load_text_dataset(tmp_path)
    with pytest.raises(ValueError, match="split='dev'"):
        load_translation_pairs(tsv_path, "dev")
    with pytest.raises(ValueError, match="direction='ru_en'"):
        load_translation_pairs(tsv_path, direction="ru_en")
    with pytest.raises(ValueError, match="no column is labelled"):
        load_translation_pairs(tsv_path, columns=("en", "de"))
    with pytest.raises(ValueError, match="split_fractions"):
        load_translation_pairs(tsv_path, split_fractions=(0.5, 0.5, 0.5))
    with pytest.raises(ValueError, match="split_key"):
        load_translation_pairs(tsv_path, split_key="english")
    with pytest.raises(ValueError, match="at least 5 columns"), pytest.warns(UserWarning):
        load_translation_pairs(tsv_path, "all", source_column=4)
    with pytest.raises(ValueError, match="'bundled:ru' or 'bundled:en'"):
        load_text_dataset("bundled")
    with pytest.raises(ValueError, match="type int"):
        load_text_dataset(42)
    with pytest.raises(ValueError, match="not a TFDS dataset"):
        load_text_dataset("no_such_dataset_xyz")


def test_tfds_not_prepared_and_download_false(tmp_path):
    with pytest.raises(ValueError, match="not available in data_dir=.*download=True"):
        load_translation_pairs(
            "ted_hrlr_translate/ru_to_en", data_dir=str(tmp_path), download=False
        )


def test_tfds_translation_with_mock_data():
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=6, policy=tfds.testing.MockPolicy.USE_CODE):
        ru_en = load_translation_pairs("ted_hrlr_translate/ru_to_en", "train", "ru-en")
        en_ru = load_translation_pairs("ted_hrlr_translate/ru_to_en", "train", "en-ru")
        wmt = load_translation_pairs("wmt19_translate/ru-en", "validation", "ru-en")
        forward, backward, wmt_pairs = decoded(ru_en), decoded(en_ru), decoded(wmt)
        with pytest.raises(ValueError, match=r"no text feature\(s\) \['de'\]"):
            load_translation_pairs("ted_hrlr_translate/ru_to_en", direction="de-en")
    assert len(forward) == 6 and len(wmt_pairs) == 6
    assert backward == [(target, source) for source, target in forward]
    assert ru_en.element_spec == (tf.TensorSpec([], tf.string), tf.TensorSpec([], tf.string))


def test_tfds_text_with_mock_data():
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=5, policy=tfds.testing.MockPolicy.USE_CODE):
        lines = decoded(load_text_dataset("lm1b", "test"))
        split = decoded(load_text_dataset("tiny_shakespeare", "train", split_lines=True))
        with pytest.raises(ValueError, match=r"2 text features \['en', 'ru'\]"):
            load_text_dataset("ted_hrlr_translate/ru_to_en")
        chosen = decoded(load_text_dataset("ted_hrlr_translate/ru_to_en", text_key="ru"))
        with pytest.raises(ValueError, match="text_key='fr'"):
            load_text_dataset("ted_hrlr_translate/ru_to_en", text_key="fr")
    assert 1 <= len(lines) <= 5 and all(line.strip() for line in lines)
    assert split and all(line.strip() and "\n" not in line for line in split)
    assert 1 <= len(chosen) <= 5


def test_bundled_corpus():
    corpus = pytest.importorskip("zoo.data.corpus")
    pairs = load_translation_pairs("bundled", "validation", "en-ru")
    assert decoded(pairs.take(3)) == corpus.load_pairs("validation", "en-ru")[:3]
    assert (
        decoded(load_text_dataset("bundled:en", "test").take(2))
        == corpus.load_text("en", "test")[:2]
    )
    with pytest.raises(ValueError, match="split='all'"):
        load_translation_pairs("bundled", "all")
    with pytest.raises(ValueError, match="'ru-en' or 'en-ru'"):
        load_translation_pairs("bundled", direction="de-en")


def test_shared_tsv_corpus(shared_data_dir):
    path = f"{shared_data_dir}/tatoeba-rus-eng.tsv"
    pairs = load_translation_pairs(path, "validation", "ru-en", columns=("en", "ru", None))
    russian, english = next(iter(pairs))

    def cyrillic(text):
        return any("а" <= c <= "я" for c in text.numpy().decode().lower())

    assert cyrillic(russian) and not cyrillic(english)
