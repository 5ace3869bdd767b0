"""Tests of zoo.data.loaders: local TSV/text files, TFDS (mocked, offline), errors."""

import gzip
import random
import re
import warnings
import zlib

import pytest
import tensorflow as tf

from zoo.data.loaders import (
    BadRowsWarning,
    FileReport,
    hash_split,
    load_text_dataset,
    load_translation_pairs,
)

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


def test_the_crc32_mod10_rule_is_test_at_zero_mod_10_and_train_otherwise(tsv_path):
    for key in [*RUSSIAN[:50], b"bytes", ""]:
        data = key if isinstance(key, bytes) else key.encode("utf-8")
        expected = "test" if zlib.crc32(data) % 10 == 0 else "train"
        assert hash_split(key, rule="crc32-mod10") == expected
    # The Tatoeba benchmark's split: the Russian side is the key, whichever the direction.
    columns = ("en", "ru")
    test_ru = {ru for ru in RUSSIAN if zlib.crc32(ru.encode("utf-8")) % 10 == 0}
    assert 0 < len(test_ru) < 300
    for direction, side in (("ru-en", "source"), ("en-ru", "target")):
        splits = {
            split: decoded(
                load_translation_pairs(
                    tsv_path, split, direction, columns=columns, split_key=side,
                    split_rule="crc32-mod10",
                )
            )
            for split in ("train", "validation", "test")
        }  # fmt: skip
        russian = 0 if side == "source" else 1
        assert {pair[russian] for pair in splits["test"]} == test_ru
        assert len(splits["train"]) == 300 - len(test_ru) and splits["validation"] == []
    with pytest.raises(ValueError, match="split_rule='mod7'.*'fractions' .*'crc32-mod10'"):
        load_translation_pairs(tsv_path, "all", split_rule="mod7")
    with pytest.raises(ValueError, match="rule='mod7'"):
        hash_split("key", rule="mod7")


def test_tsv_bad_rows_are_skipped_with_a_count_when_allowed(tmp_path):
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
    with pytest.raises(ValueError, match=r"3 of 5 rows are bad \(first: line 2, 1 column where 2"):
        load_translation_pairs(path, "all")
    report = []
    with pytest.warns(BadRowsWarning, match=r"skipped 3 bad of 5 rows \(first: line 2"):
        pairs = decoded(load_translation_pairs(path, "all", max_bad_rows=3, report=report))
    assert pairs == [("hello", "привет"), ("bye", "пока")]
    assert report == [FileReport(str(path), 5, 3, 2, "1 column where 2 are expected")]


def _write_pairs(path, rows):
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def random_bytes(size, seed=0):
    """`size` bytes like /dev/urandom's, the same on every run."""
    return random.Random(seed).randbytes(size)


def test_random_bytes_are_refused_whatever_max_bad_rows(tmp_path):
    noise = tmp_path / "pairs.tsv"
    noise.write_bytes(random_bytes(20_000))  # was read as 28 "sentence pairs"
    for allowed in (0, 10**9):
        with pytest.raises(ValueError, match=r"pairs\.tsv: contains NUL bytes.*not UTF-8"):
            load_translation_pairs(noise, "all", max_bad_rows=allowed)
        with pytest.raises(ValueError, match="contains NUL bytes"):
            load_text_dataset(noise, "all", max_bad_rows=allowed)
    # Without NUL bytes it is still not text: ~44% of the bytes are not UTF-8.
    no_nul = tmp_path / "noise.txt.gz"
    with gzip.open(no_nul, "wb") as file:
        file.write(random_bytes(20_000).replace(b"\x00", b""))
    pattern = r"noise\.txt\.gz: [\d,]+ of [\d,]+ bytes \(4\d\.\d%\) are not valid UTF-8"
    with pytest.raises(ValueError, match=pattern):
        load_text_dataset(no_nul, "all", max_bad_rows=10**9)
    with pytest.raises(ValueError, match="not valid UTF-8"):
        load_translation_pairs(no_nul, "all", max_bad_rows=10**9)
    # Another encoding: Russian in cp1251 is all invalid UTF-8.
    cp1251 = tmp_path / "cp1251.tsv"
    cp1251.write_bytes("hello\tпривет, как дела?\n".encode("cp1251") * 50)
    with pytest.raises(ValueError, match=r"not valid UTF-8.*cp1251"):
        load_translation_pairs(cp1251, "all", max_bad_rows=10**9)
    utf16 = tmp_path / "utf16.tsv"
    utf16.write_bytes("hello\tпривет\n".encode("utf-16"))
    with pytest.raises(ValueError, match="NUL bytes .*UTF-16"):
        load_translation_pairs(utf16, "all")


def test_wrong_column_count_names_the_line_and_the_count(tmp_path):
    rows = [f"sentence {i}\tпредложение {i}" for i in range(2000)]
    bad_lines = [12, *range(100, 1500, 100), 1999]  # 1-based line numbers
    for number in bad_lines:
        rows[number - 1] = f"only one column {number}"
    rows[1499] = "one\ttwo\tthree"  # a stray tab: 3 columns where the file has 2
    path = _write_pairs(tmp_path / "pairs.tsv", rows)
    assert len(bad_lines) == 16
    message = (
        r"pairs\.tsv: 17 of 2,000 rows are bad \(first: line 12, 1 column where 2 are expected; "
        r"bad lines: 12, 100, 200, .*\)\. Fix the file, or pass max_bad_rows=17 "
        r"\(recipes: --max-bad-rows 17\)"
    )
    with pytest.raises(ValueError, match=message):
        load_translation_pairs(path, "all")
    with pytest.raises(ValueError, match=r"17 of 2,000 rows are bad \(max_bad_rows=16\)"):
        load_translation_pairs(path, "all", max_bad_rows=16)
    report = []
    with pytest.warns(BadRowsWarning) as caught:
        pairs = decoded(load_translation_pairs(path, "all", max_bad_rows=17, report=report))
    assert len(pairs) == 1983 and ("sentence 0", "предложение 0") in pairs
    assert report == [FileReport(str(path), 2000, 17, 12, "1 column where 2 are expected")]
    assert caught[0].message.report == report[0]
    assert "skipped 17 bad of 2,000 rows (first: line 12" in str(caught[0].message)
    only_stray = _write_pairs(tmp_path / "stray.tsv", ["a\tб", "b\tв", "c\tг\tд", "d\tе"])
    with pytest.raises(ValueError, match="1 of 4 rows are bad .*line 3, 3 columns where 2 are"):
        load_translation_pairs(only_stray, "all")


def test_empty_fields_are_bad_rows(tmp_path):
    path = _write_pairs(tmp_path / "pairs.tsv", ["hello\tпривет", "bye\t  ", "\tпока"])
    with pytest.raises(ValueError, match=r"line 2, empty target field \(column 2, ru\)"):
        load_translation_pairs(path, "all", "en-ru", columns=("en", "ru"))
    with pytest.raises(ValueError, match=r"2 of 3 rows .*line 2, empty source field \(column 2"):
        load_translation_pairs(path, "all", "ru-en", columns=("en", "ru"))
    with pytest.warns(BadRowsWarning):
        pairs = load_translation_pairs(path, "all", columns=("en", "ru"), max_bad_rows=2)
    assert decoded(pairs) == [("привет", "hello")]
    control = _write_pairs(tmp_path / "control.txt", ["fine", "beep \x07 here", "fine too"])
    with pytest.raises(ValueError, match=r"line 2, control character U\+0007"):
        load_text_dataset(control, "all")


def test_empty_and_one_column_files_give_clear_errors(tmp_path):
    for content in (b"", b"\n\n  \r\n", b"\xef\xbb\xbf"):
        path = tmp_path / "empty.tsv"
        path.write_bytes(content)
        with pytest.raises(ValueError, match=r"empty\.tsv: the file is empty"):
            load_translation_pairs(path, "all", max_bad_rows=10)
        with pytest.raises(ValueError, match="the file is empty"):
            load_text_dataset([path], "all")
    header_only = _write_pairs(tmp_path / "header.tsv", ["en\tru"])
    with pytest.raises(ValueError, match="no rows after the header"):
        load_translation_pairs(header_only, "all", skip_header=True)
    one_column = _write_pairs(tmp_path / "one.tsv", ["hello, привет", "bye, пока"])
    with pytest.raises(ValueError, match=r"none of its 2 rows has a tab; it has 1 column where"):
        load_translation_pairs(one_column, "all", max_bad_rows=10**9)
    with pytest.raises(ValueError, match="max_bad_rows=-1"):
        load_translation_pairs(one_column, max_bad_rows=-1)
    with pytest.raises(ValueError, match="max_bad_rows=True"):
        load_text_dataset(one_column, max_bad_rows=True)


def test_good_files_load_as_before_without_warnings(tsv_path, tmp_path):
    report = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pairs = decoded(
            load_translation_pairs(tsv_path, "all", "ru-en", columns=("en", "ru"), report=report)
        )
        text = tmp_path / "text.txt"
        text.write_text("\ufeff" + "\n".join(RUSSIAN) + "\n\n", encoding="utf-8")
        lines = decoded(load_text_dataset(text, "all", report=report))
    assert pairs == list(zip(RUSSIAN, ENGLISH)) and lines == RUSSIAN
    assert [(r.rows, r.bad_rows, r.first_bad_line) for r in report] == [(300, 0, None)] * 2
    assert re.fullmatch(r".*pairs\.tsv: 300 rows, none bad", str(report[0]))


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
    with pytest.raises(ValueError, match=r"1 of 3 lines are bad \(first: line 5, invalid UTF-8"):
        load_text_dataset(first, "all")
    with pytest.warns(BadRowsWarning, match="skipped 1 bad of 3 rows"):
        assert decoded(load_text_dataset(first, "all", max_bad_rows=1)) == [
            "line one",
            "строка два",
        ]
        lines = decoded(load_text_dataset([first, str(second)], "all", max_bad_rows=1))
    assert lines[-1] == "third\u2028still third" and len(lines) == 3
    first.write_bytes("line one\n\n   \nстрока два\r\nfixed\n".encode())
    many = tmp_path / "many.txt"
    many.write_text("\n".join(ENGLISH), encoding="utf-8")
    splits = [decoded(load_text_dataset(many, split)) for split in ("train", "validation", "test")]
    assert sorted(line for lines in splits for line in lines) == sorted(ENGLISH)
    assert splits[2] == [line for line in ENGLISH if hash_split(line) == "test"]
    dataset = load_text_dataset({"train": [first, second], "test": many}, "train")
    assert len(decoded(dataset)) == 4
    with_blanks = decoded(load_text_dataset(first, "all", skip_empty=False))
    assert with_blanks == ["line one", "", "   ", "строка два", "fixed", ""]
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
    with pytest.raises(ValueError, match="source_column=4 .* need at least 5 columns"):
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
    # The real corpora have no bad rows: the default max_bad_rows=0 loads all of them.
    for name, columns in (
        ("ntrex128-eng-rus.tsv", ("en", "ru")),
        ("tico19-test-eng-rus.tsv", None),
    ):
        report = []
        load_translation_pairs(f"{shared_data_dir}/{name}", "all", columns=columns, report=report)
        assert report[0].bad_rows == 0 and report[0].rows > 1900
