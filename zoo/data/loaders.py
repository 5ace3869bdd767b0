"""Loaders: text and translation pairs as `tf.data.Dataset`s of `tf.string`.

Three kinds of source, one call:

- the bundled generated Russian-English corpus (`zoo.data.corpus`): `"bundled"` for pairs,
  `"bundled:ru"` / `"bundled:en"` for monolingual text;
- local files: tab-separated pair files (`english<TAB>russian[<TAB>...]`, the columns are
  chosen by the caller) and plain text files (one example per line);
- TensorFlow Datasets by name (`"ted_hrlr_translate/ru_to_en"`, `"wmt19_translate/ru-en"`,
  `"lm1b"`, ...), read from `data_dir`; nothing is downloaded unless `download=True`.

Local files are read once in Python (decoded as UTF-8 with invalid bytes replaced by U+FFFD)
and held in memory. A file carries no split of its own, so `split="train" | "validation" |
"test"` selects lines by a stable hash (`zlib.crc32` of the source side by default): the same
line always lands in the same split, on every machine and every run, and duplicated sources
never leak across splits. `split="all"` takes every line; a `{split: path}` dict names
files that are already split.

Example:

```python
pairs = load_translation_pairs(
    "../shared/data/tatoeba-rus-eng.tsv", split="train", direction="ru-en",
    columns=("en", "ru"),
)
for ru, en in pairs.take(1):
    print(ru.numpy().decode(), "->", en.numpy().decode())
```
"""

import gzip
import os
import re
import warnings
import zlib

import tensorflow as tf

__all__ = [
    "DEFAULT_SPLIT_FRACTIONS",
    "FILE_SPLITS",
    "hash_split",
    "load_text_dataset",
    "load_translation_pairs",
]

FILE_SPLITS = ("train", "validation", "test")
DEFAULT_SPLIT_FRACTIONS = (0.8, 0.1, 0.1)
_BUNDLED = "bundled"
_ALL = "all"
# A TFDS name: `name`, `name/config`, `name:version`, `name/config:version`.
_TFDS_NAME = re.compile(r"^[a-z][a-z0-9_]*(/[A-Za-z0-9_\-]+)?(:[0-9.*]+)?$")
_SPLIT_KEYS = ("source", "target", "pair")
_HASH_BUCKETS = 2**32


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


def load_translation_pairs(
    source,
    split="train",
    direction="ru-en",
    *,
    columns=None,
    source_column=None,
    target_column=None,
    skip_header=False,
    split_fractions=DEFAULT_SPLIT_FRACTIONS,
    split_key="source",
    source_key=None,
    target_key=None,
    data_dir=None,
    download=False,
):
    """Parallel text as a `tf.data.Dataset` of `(source_text, target_text)` `tf.string` pairs.

    Args:
        source: `"bundled"` (the generated corpus of `zoo.data.corpus`); a path to a local
            tab-separated file (`.tsv`, optionally `.gz`); a dict `{split: path}` of files
            that are already split; or a TFDS name such as `"ted_hrlr_translate/ru_to_en"` or
            `"wmt19_translate/ru-en"`.
        split: `"train"`, `"validation"` or `"test"`; `"all"` for every line of a local
            file; any TFDS split string (`"train[:10%]"`) for TFDS.
        direction: `"<source language>-<target language>"`, e.g. `"ru-en"` or `"en-ru"`.
        columns: local files: the language of each column, e.g. `("en", "ru")` for the
            `english<TAB>russian` files in `../shared/data`; `None` or `""` entries for
            columns to ignore. The direction then picks the source and target columns.
        source_column, target_column: local files: explicit 0-based column indices
            (defaults: from `columns`, else 0 and 1).
        skip_header: local files: drop the first line.
        split_fractions: local files: `(train, validation, test)` fractions of the hash split.
        split_key: local files: what the split hash reads, `"source"`, `"target"`, `"pair"`,
            or a callable `(source_text, target_text) -> str` for a custom key.
        source_key, target_key: TFDS: feature names of the two sides, when they are not the
            language codes of `direction`.
        data_dir: TFDS: where prepared datasets live (TFDS's default when `None`).
        download: TFDS: download and prepare the dataset when it is not in `data_dir`.

    Returns:
        A `tf.data.Dataset` of `(tf.string, tf.string)` scalar pairs.

    Raises:
        ValueError: an unknown source, split or direction, a missing file, a column that does
            not exist, or a TFDS dataset that is not prepared while `download=False`.
    """
    source_language, target_language = _parse_direction(direction)
    if isinstance(source, str) and source == _BUNDLED:
        return _bundled_pairs(split, direction)
    if isinstance(source, dict):
        path = _path_for_split(source, split)
        pairs = _read_pairs(path, columns, source_column, target_column, direction, skip_header)
        return _pairs_dataset(pairs)
    path = _existing_file(source)
    if path is not None:
        _check_file_split(split)
        pairs = _read_pairs(path, columns, source_column, target_column, direction, skip_header)
        pairs = _select_split(pairs, split, split_fractions, _pair_key_function(split_key))
        return _pairs_dataset(pairs)
    if _is_tfds_name(source):
        return _tfds_pairs(
            source,
            split,
            source_key or source_language,
            target_key or target_language,
            data_dir,
            download,
        )
    raise _unknown_source_error(source, "bundled", "a .tsv file")


def load_text_dataset(
    source,
    split="train",
    *,
    text_key=None,
    split_lines=False,
    skip_empty=True,
    split_fractions=DEFAULT_SPLIT_FRACTIONS,
    data_dir=None,
    download=False,
):
    """Monolingual text as a `tf.data.Dataset` of `tf.string` scalars (one example each).

    Args:
        source: `"bundled:ru"` or `"bundled:en"` (the generated corpus); a path or a list of
            paths to text files (one example per line, `.gz` allowed); a dict `{split: path
            or paths}` of files that are already split; or any TFDS text dataset name
            (`"lm1b"`, `"tiny_shakespeare"`, `"wiki40b/ru"`, ...).
        split: `"train"`, `"validation"` or `"test"` (local files: chosen by a stable hash of
            the line, see the module docstring); `"all"` for every line of local files; any
            TFDS split string for TFDS.
        text_key: TFDS: the feature holding the text. Default: the only string feature;
            a `ValueError` lists the features when there are several.
        split_lines: TFDS: split each example at newlines (e.g. `tiny_shakespeare`, whose
            split is one long string).
        skip_empty: drop examples that are empty or whitespace only.
        split_fractions: local files: `(train, validation, test)` fractions of the hash split.
        data_dir: TFDS: where prepared datasets live (TFDS's default when `None`).
        download: TFDS: download and prepare the dataset when it is not in `data_dir`.

    Returns:
        A `tf.data.Dataset` of `tf.string` scalars.

    Raises:
        ValueError: an unknown source or split, a missing file, an ambiguous or unknown
            `text_key`, or a TFDS dataset that is not prepared while `download=False`.
    """
    if isinstance(source, str) and (source == _BUNDLED or source.startswith(_BUNDLED + ":")):
        language = source.partition(":")[2]
        if not language:
            raise ValueError(
                f"Received source={source!r}, which names no language. Use 'bundled:ru' or "
                "'bundled:en'."
            )
        return _bundled_text(language, split)
    if isinstance(source, dict):
        paths = source[_check_split_in(source, split)]
        paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
        paths = [_existing_file(path) or _missing_file(path) for path in paths]
        return _lines_dataset(_read_lines_of(paths, skip_empty))
    if isinstance(source, (list, tuple)):
        if not source:
            raise ValueError("Received an empty list of text files; pass at least one path.")
        paths = [_existing_file(path) or _missing_file(path) for path in source]
        _check_file_split(split)
        lines = _read_lines_of(paths, skip_empty)
        return _lines_dataset(_select_split(lines, split, split_fractions, lambda line: line))
    path = _existing_file(source)
    if path is not None:
        _check_file_split(split)
        lines = _read_lines_of([path], skip_empty)
        return _lines_dataset(_select_split(lines, split, split_fractions, lambda line: line))
    if _is_tfds_name(source):
        return _tfds_text(source, split, text_key, split_lines, skip_empty, data_dir, download)
    raise _unknown_source_error(source, "bundled:ru", "a text file or list of text files")


def hash_split(key, split_fractions=DEFAULT_SPLIT_FRACTIONS):
    """The split (`"train"`, `"validation"` or `"test"`) a hash key falls into.

    The key (a `str` or `bytes`) is hashed with `zlib.crc32` of its UTF-8 bytes, which is the
    same on every platform and Python version, and mapped to `[0, 1)`; the cumulative
    `split_fractions` cut that interval.
    """
    fractions = _check_fractions(split_fractions)
    data = key.encode("utf-8") if isinstance(key, str) else bytes(key)
    position = zlib.crc32(data) / _HASH_BUCKETS
    cumulative = 0.0
    for name, fraction in zip(FILE_SPLITS, fractions):
        cumulative += fraction
        if position < cumulative:
            return name
    return FILE_SPLITS[-1]


# ---------------------------------------------------------------------------------------------
# Argument checks
# ---------------------------------------------------------------------------------------------


def _parse_direction(direction):
    parts = direction.split("-") if isinstance(direction, str) else []
    if len(parts) != 2 or not all(parts) or parts[0] == parts[1]:
        raise ValueError(
            f"Received direction={direction!r}; expected '<source>-<target>' with two "
            "different language codes, e.g. 'ru-en' or 'en-ru'."
        )
    return parts[0], parts[1]


def _check_fractions(split_fractions):
    fractions = tuple(float(f) for f in split_fractions)
    if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-6:
        raise ValueError(
            f"Received split_fractions={split_fractions!r}; expected three non-negative "
            "fractions (train, validation, test) summing to 1, e.g. (0.8, 0.1, 0.1)."
        )
    return fractions


def _check_file_split(split):
    if split not in (*FILE_SPLITS, _ALL):
        raise ValueError(
            f"Received split={split!r} for a local file; expected one of "
            f"{[*FILE_SPLITS, _ALL]} ('all' takes every line; the others are chosen by a "
            "stable hash of each line)."
        )


def _check_split_in(mapping, split):
    if split not in mapping:
        raise ValueError(
            f"Received split={split!r}, but the source dict names the splits "
            f"{sorted(mapping)}. Pass one of those, or add a path for {split!r}."
        )
    return split


def _is_tfds_name(source):
    return isinstance(source, str) and bool(_TFDS_NAME.match(source))


def _existing_file(source):
    """`source` as an absolute path when it names an existing file, else `None`."""
    if not isinstance(source, (str, os.PathLike)):
        return None
    path = os.path.abspath(os.path.expanduser(os.fspath(source)))
    if os.path.isdir(path):
        raise ValueError(
            f"Received source={os.fspath(source)!r}, which is a directory; pass the path of "
            "a file, a list of files, or a {split: path} dict."
        )
    return path if os.path.isfile(path) else None


def _missing_file(path):
    raise ValueError(
        f"Text file not found: {os.fspath(path)!r} (resolved to "
        f"{os.path.abspath(os.path.expanduser(os.fspath(path)))!r}). Check the path; relative "
        "paths are resolved from the current directory."
    )


def _path_for_split(mapping, split):
    path = mapping[_check_split_in(mapping, split)]
    return _existing_file(path) or _missing_file(path)


def _unknown_source_error(source, bundled_example, file_example):
    if not isinstance(source, (str, os.PathLike)):
        return ValueError(
            f"Received source of type {type(source).__name__}; expected {bundled_example!r}, "
            f"{file_example} path, a {{split: path}} dict, or a TFDS dataset name."
        )
    return ValueError(
        f"Unknown source {os.fspath(source)!r}: it is not {bundled_example!r}, not an existing "
        f"file (looked for {os.path.abspath(os.path.expanduser(os.fspath(source)))!r}) and not "
        f"a TFDS dataset name. Pass {bundled_example!r}, {file_example} path, or a TFDS name "
        "like 'ted_hrlr_translate/ru_to_en'."
    )


# ---------------------------------------------------------------------------------------------
# Local files
# ---------------------------------------------------------------------------------------------


def _read_text(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as file:
        data = file.read()
    text = data.decode("utf-8", errors="replace")
    return text[1:] if text.startswith("\ufeff") else text


def _raw_lines(path):
    # `str.splitlines` would also break at U+2028, U+0085 and other separators inside a line.
    for line in _read_text(path).split("\n"):
        yield line[:-1] if line.endswith("\r") else line


def _read_lines_of(paths, skip_empty):
    lines = []
    for path in paths:
        for line in _raw_lines(path):
            if skip_empty and not line.strip():
                continue
            lines.append(line)
    if not lines:
        warnings.warn(f"No non-empty lines in {[os.fspath(p) for p in paths]}.", stacklevel=3)
    return lines


def _resolve_columns(columns, source_column, target_column, direction):
    source_language, target_language = _parse_direction(direction)
    if columns is not None:
        names = list(columns)
        missing = [lang for lang in (source_language, target_language) if lang not in names]
        if missing:
            raise ValueError(
                f"Received columns={tuple(columns)!r} and direction={direction!r}, but no "
                f"column is labelled {missing}. Label the columns with the languages of the "
                "direction, e.g. columns=('en', 'ru') for an english<TAB>russian file."
            )
        if source_column is None:
            source_column = names.index(source_language)
        if target_column is None:
            target_column = names.index(target_language)
    source_column = 0 if source_column is None else source_column
    target_column = 1 if target_column is None else target_column
    for name, value in (("source_column", source_column), ("target_column", target_column)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"Received {name}={value!r}; expected a 0-based column index.")
    if source_column == target_column:
        raise ValueError(
            f"Received source_column == target_column == {source_column}; the two sides must "
            "come from different columns."
        )
    return source_column, target_column


def _read_pairs(path, columns, source_column, target_column, direction, skip_header):
    source_column, target_column = _resolve_columns(
        columns, source_column, target_column, direction
    )
    needed = max(source_column, target_column) + 1
    pairs, malformed, examples = [], 0, []
    lines = _raw_lines(path)
    if skip_header:
        next(lines, None)
    for number, line in enumerate(lines, start=2 if skip_header else 1):
        if not line.strip():
            continue  # blank lines (and the file's final newline) are not data
        fields = line.split("\t")
        if len(fields) < needed:
            malformed += 1
            examples.append(number)
            continue
        source_text, target_text = fields[source_column].strip(), fields[target_column].strip()
        if not source_text or not target_text:
            malformed += 1
            examples.append(number)
            continue
        pairs.append((source_text, target_text))
    if malformed:
        warnings.warn(
            f"Skipped {malformed} malformed line(s) of {path} (fewer than {needed} "
            f"tab-separated columns, or an empty source/target); first line numbers: "
            f"{examples[:5]}.",
            stacklevel=3,
        )
    if not pairs:
        raise ValueError(
            f"No sentence pairs in {path}: {malformed} malformed line(s). Expected "
            f"tab-separated lines with at least {needed} columns; check the file and the "
            "column arguments."
        )
    return pairs


def _pair_key_function(split_key):
    if callable(split_key):
        return lambda pair: split_key(*pair)
    if split_key == "source":
        return lambda pair: pair[0]
    if split_key == "target":
        return lambda pair: pair[1]
    if split_key == "pair":
        return lambda pair: pair[0] + "\t" + pair[1]
    raise ValueError(
        f"Received split_key={split_key!r}; expected one of {list(_SPLIT_KEYS)} or a callable "
        "(source_text, target_text) -> str."
    )


def _select_split(items, split, split_fractions, key_function):
    if split == _ALL:
        return items
    fractions = _check_fractions(split_fractions)
    return [item for item in items if hash_split(key_function(item), fractions) == split]


def _pairs_dataset(pairs):
    sources = [source for source, _ in pairs]
    targets = [target for _, target in pairs]
    return tf.data.Dataset.from_tensor_slices(
        (tf.constant(sources, tf.string, shape=[len(sources)]), tf.constant(targets, tf.string))
    )


def _lines_dataset(lines):
    return tf.data.Dataset.from_tensor_slices(tf.constant(lines, tf.string, shape=[len(lines)]))


# ---------------------------------------------------------------------------------------------
# The bundled corpus
# ---------------------------------------------------------------------------------------------


def _corpus_module():
    try:
        from zoo.data import corpus
    except ImportError as error:  # pragma: no cover - the module ships with the package
        raise ValueError(
            f"The bundled corpus (zoo.data.corpus) could not be imported: {error}. Pass a "
            "local file or a TFDS name instead."
        ) from error
    return corpus


def _check_bundled_split(corpus, split):
    splits = tuple(getattr(corpus, "CORPUS_SPLITS", FILE_SPLITS))
    if split not in splits:
        raise ValueError(
            f"Received split={split!r} for the bundled corpus; expected one of {list(splits)}."
        )


def _bundled_pairs(split, direction):
    corpus = _corpus_module()
    _check_bundled_split(corpus, split)
    if direction not in ("ru-en", "en-ru"):
        raise ValueError(
            f"Received direction={direction!r}; the bundled corpus is Russian-English, so use "
            "'ru-en' or 'en-ru'."
        )
    return _pairs_dataset(list(corpus.load_pairs(split=split, direction=direction)))


def _bundled_text(language, split):
    corpus = _corpus_module()
    _check_bundled_split(corpus, split)
    if language not in ("ru", "en"):
        raise ValueError(
            f"Received language {language!r} for the bundled corpus; use 'bundled:ru' or "
            "'bundled:en'."
        )
    return _lines_dataset(list(corpus.load_text(language=language, split=split)))


# ---------------------------------------------------------------------------------------------
# TensorFlow Datasets
# ---------------------------------------------------------------------------------------------


def _tfds_builder(name, data_dir):
    import tensorflow_datasets as tfds

    try:
        return tfds.builder(name, data_dir=data_dir)
    except tfds.core.registered.DatasetNotFoundError as error:
        first_line = str(error).splitlines()[0]
        raise ValueError(
            f"Unknown source {name!r}: not a local file and not a TFDS dataset ({first_line}). "
            "Check the spelling against `tfds.list_builders()`, or pass an existing file path."
        ) from error


def _tfds_dataset(name, split, data_dir, download):
    """The feature-dict dataset of one TFDS split, and the builder's features."""
    builder = _tfds_builder(name, data_dir)
    if download:
        builder.download_and_prepare()
    try:
        dataset = builder.as_dataset(split=split, shuffle_files=False)
    except AssertionError as error:  # TFDS signals "not prepared" with an AssertionError
        raise ValueError(
            f"TFDS dataset {name!r} is not available in data_dir={builder.data_dir_root!r} and "
            "download=False. Pass download=True to download and prepare it (needs network "
            "access and disk space), or data_dir= pointing at a prepared copy."
        ) from error
    except ValueError as error:
        known = list(builder.info.splits.keys())
        raise ValueError(
            f"Received split={split!r} for TFDS dataset {name!r}: {error}. Known splits: {known}."
        ) from error
    return dataset, builder.info.features


def _string_features(spec):
    return sorted(
        key
        for key, value in spec.items()
        if isinstance(value, tf.TensorSpec) and value.dtype == tf.string and value.shape.rank == 0
    )


def _tfds_pairs(name, split, source_key, target_key, data_dir, download):
    dataset, _ = _tfds_dataset(name, split, data_dir, download)
    spec = dataset.element_spec
    available = _string_features(spec) if isinstance(spec, dict) else []
    missing = [key for key in (source_key, target_key) if key not in available]
    if missing:
        raise ValueError(
            f"TFDS dataset {name!r} has no text feature(s) {missing}; its text features are "
            f"{available}. Choose a direction whose languages are among them, or pass "
            "source_key= and target_key=."
        )
    return dataset.map(
        lambda example: (example[source_key], example[target_key]),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )


def _tfds_text(name, split, text_key, split_lines, skip_empty, data_dir, download):
    dataset, _ = _tfds_dataset(name, split, data_dir, download)
    spec = dataset.element_spec
    available = _string_features(spec) if isinstance(spec, dict) else []
    if text_key is None:
        if len(available) != 1:
            features = sorted(spec) if isinstance(spec, dict) else spec
            raise ValueError(
                f"TFDS dataset {name!r} has {len(available)} text features {available} (all "
                f"features: {features}); pass text_key= to choose one."
            )
        text_key = available[0]
    elif text_key not in available:
        raise ValueError(
            f"Received text_key={text_key!r}, but the text features of TFDS dataset {name!r} "
            f"are {available}."
        )
    texts = dataset.map(
        lambda example: example[text_key],
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )
    if split_lines:
        texts = texts.flat_map(
            lambda text: tf.data.Dataset.from_tensor_slices(tf.strings.split(text, "\n"))
        )
    if skip_empty:
        texts = texts.filter(lambda text: tf.strings.length(tf.strings.strip(text)) > 0)
    return texts
