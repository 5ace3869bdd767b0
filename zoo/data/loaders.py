"""Loaders: text and translation pairs as `tf.data.Dataset`s of `tf.string`.

Three kinds of source, one call:

- the bundled generated Russian-English corpus (`zoo.data.corpus`): `"bundled"` for pairs,
  `"bundled:ru"` / `"bundled:en"` for monolingual text;
- local files: tab-separated pair files (`english<TAB>russian[<TAB>...]`, the columns are
  chosen by the caller) and plain text files (one example per line);
- TensorFlow Datasets by name (`"ted_hrlr_translate/ru_to_en"`, `"wmt19_translate/ru-en"`,
  `"lm1b"`, ...), read from `data_dir`; nothing is downloaded unless `download=True`.

Local files are read once in Python, checked, and held in memory. A file must be UTF-8 text of
the expected shape; each row (non-blank line) that is not is a *bad row*: invalid UTF-8 bytes or
control characters, a different number of tab-separated columns than the file's other rows, or
an empty source/target field. `max_bad_rows` (default 0: none) is how many bad rows of each
file are skipped (with a `BadRowsWarning`, and a `FileReport` appended to `report=` when a list
is passed); more make it a `ValueError` that names the file, the count, the first bad line and
why. Files that are not text at all (NUL bytes, or more than `MAX_INVALID_BYTE_FRACTION` of the
bytes invalid UTF-8, and more than 16 of them) and empty files are refused whatever
`max_bad_rows` says.

A file carries no split of its own, so `split="train" | "validation" | "test"` selects lines
by a stable hash (`zlib.crc32` of the source side by default): the same line always lands in
the same split, on every machine and every run, and duplicated sources never leak across
splits. `split_rule="crc32-mod10"` is the Tatoeba benchmark's rule instead: test when the
crc32 of the key (there, the Russian side) is 0 mod 10, train otherwise. `split="all"` takes
every line; a `{split: path}` dict names files that are already split.

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

import collections
import dataclasses
import gzip
import os
import re
import warnings
import zlib

import tensorflow as tf

__all__ = [
    "DEFAULT_SPLIT_FRACTIONS",
    "FILE_SPLITS",
    "MAX_INVALID_BYTE_FRACTION",
    "SPLIT_RULES",
    "BadRowsWarning",
    "FileReport",
    "hash_split",
    "load_text_dataset",
    "load_translation_pairs",
]

FILE_SPLITS = ("train", "validation", "test")
DEFAULT_SPLIT_FRACTIONS = (0.8, 0.1, 0.1)
# How `hash_split` turns a key's crc32 into a split: "fractions" cuts [0, 1) by the split
# fractions; "crc32-mod10" is test when the crc32 is 0 mod 10, train otherwise.
SPLIT_RULES = ("fractions", "crc32-mod10")
_BUNDLED = "bundled"
_ALL = "all"
# A TFDS name: `name`, `name/config`, `name:version`, `name/config:version`.
_TFDS_NAME = re.compile(r"^[a-z][a-z0-9_]*(/[A-Za-z0-9_\-]+)?(:[0-9.*]+)?$")
_SPLIT_KEYS = ("source", "target", "pair")
_HASH_BUCKETS = 2**32
# A file with more invalid UTF-8 bytes than this fraction is not text: refused, whatever
# max_bad_rows allows (20 kB of random bytes are ~50% invalid; one stray byte in a real corpus
# is far below 1%).
MAX_INVALID_BYTE_FRACTION = 0.01
_MIN_INVALID_BYTES = 16  # below this a small file's stray bytes are bad rows, not "binary"
# What makes a line bad: bytes that are not UTF-8 (decoded as lone surrogates U+DC80-U+DCFF
# by "surrogateescape") and C0 control characters other than tab, CR and form feed.
_BAD_CHARACTER = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f\udc80-\udcff]")
_INVALID_BYTE = re.compile("[\udc80-\udcff]")


@dataclasses.dataclass(frozen=True)
class FileReport:
    """What reading one local file found: `rows` non-blank data rows, of which `bad_rows` were
    skipped; the first bad one is `first_bad_line` (1-based) for `first_bad_reason`."""

    path: str
    rows: int
    bad_rows: int
    first_bad_line: int | None = None
    first_bad_reason: str | None = None

    def __str__(self):
        if not self.bad_rows:
            return f"{self.path}: {self.rows:,} rows, none bad"
        return (
            f"{self.path}: skipped {self.bad_rows:,} bad of {self.rows:,} rows (first: line "
            f"{self.first_bad_line}, {self.first_bad_reason})"
        )


class BadRowsWarning(UserWarning):
    """Bad rows of a local file were skipped (at most `max_bad_rows`); `.report` says which."""

    def __init__(self, report):
        super().__init__(
            f"{report}; they are left out. Fix the file to keep them (max_bad_rows allows "
            "skipping them)."
        )
        self.report = report


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
    split_rule="fractions",
    source_key=None,
    target_key=None,
    data_dir=None,
    download=False,
    max_bad_rows=0,
    report=None,
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
        split_rule: local files: how the hash picks the split (`hash_split`): `"fractions"`
            (by `split_fractions`) or `"crc32-mod10"` (test when the key's crc32 is 0 mod
            10, else train: the Tatoeba benchmark's rule with the Russian side as the key).
        source_key, target_key: TFDS: feature names of the two sides, when they are not the
            language codes of `direction`.
        data_dir: TFDS: where prepared datasets live (TFDS's default when `None`).
        download: TFDS: download and prepare the dataset when it is not in `data_dir`.
        max_bad_rows: local files: how many bad rows (invalid UTF-8 or control characters, a
            column count other than the file's usual one, an empty source or target field)
            are skipped, counted and warned about (`BadRowsWarning`). More bad rows raise a
            `ValueError` naming the first. Default 0: any bad row is an error.
        report: local files: a list; one `FileReport` (rows read, bad rows skipped, the
            first bad line and why) is appended per file read.

    Returns:
        A `tf.data.Dataset` of `(tf.string, tf.string)` scalar pairs.

    Raises:
        ValueError: an unknown source, split or direction, a missing file, a column that does
            not exist, a TFDS dataset that is not prepared while `download=False`; a local
            file that is empty, has a single column, is not UTF-8 text (NUL bytes, more than
            `MAX_INVALID_BYTE_FRACTION` of its bytes invalid) or has more than
            `max_bad_rows` bad rows.
    """
    source_language, target_language = _parse_direction(direction)
    _check_max_bad_rows(max_bad_rows)
    _check_split_rule(split_rule)
    if isinstance(source, str) and source == _BUNDLED:
        return _bundled_pairs(split, direction)
    read = {
        "columns": columns,
        "source_column": source_column,
        "target_column": target_column,
        "direction": direction,
        "skip_header": skip_header,
        "max_bad_rows": max_bad_rows,
        "report": report,
    }
    if isinstance(source, dict):
        path = _path_for_split(source, split)
        return _pairs_dataset(_read_pairs(path, **read))
    path = _existing_file(source)
    if path is not None:
        _check_file_split(split)
        pairs = _read_pairs(path, **read)
        key_function = _pair_key_function(split_key)
        pairs = _select_split(pairs, split, split_fractions, key_function, split_rule)
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
    max_bad_rows=0,
    report=None,
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
        max_bad_rows: local files: how many bad lines (invalid UTF-8 bytes or control
            characters) of each file are skipped, counted and warned about
            (`BadRowsWarning`); more raise a `ValueError` naming the first. Default 0.
        report: local files: a list; one `FileReport` is appended per file read.

    Returns:
        A `tf.data.Dataset` of `tf.string` scalars.

    Raises:
        ValueError: an unknown source or split, a missing file, an ambiguous or unknown
            `text_key`, a TFDS dataset that is not prepared while `download=False`; a local
            file that is empty, is not UTF-8 text (NUL bytes, more than
            `MAX_INVALID_BYTE_FRACTION` of its bytes invalid) or has more than
            `max_bad_rows` bad lines.
    """
    _check_max_bad_rows(max_bad_rows)
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
        return _lines_dataset(_read_lines_of(paths, skip_empty, max_bad_rows, report))
    if isinstance(source, (list, tuple)):
        if not source:
            raise ValueError("Received an empty list of text files; pass at least one path.")
        paths = [_existing_file(path) or _missing_file(path) for path in source]
        _check_file_split(split)
        lines = _read_lines_of(paths, skip_empty, max_bad_rows, report)
        return _lines_dataset(_select_split(lines, split, split_fractions, lambda line: line))
    path = _existing_file(source)
    if path is not None:
        _check_file_split(split)
        lines = _read_lines_of([path], skip_empty, max_bad_rows, report)
        return _lines_dataset(_select_split(lines, split, split_fractions, lambda line: line))
    if _is_tfds_name(source):
        return _tfds_text(source, split, text_key, split_lines, skip_empty, data_dir, download)
    raise _unknown_source_error(source, "bundled:ru", "a text file or list of text files")


def hash_split(key, split_fractions=DEFAULT_SPLIT_FRACTIONS, rule="fractions"):
    """The split (`"train"`, `"validation"` or `"test"`) a hash key falls into.

    The key (a `str` or `bytes`) is hashed with `zlib.crc32` of its UTF-8 bytes, which is the
    same on every platform and Python version. With `rule="fractions"` the hash is mapped to
    `[0, 1)` and the cumulative `split_fractions` cut that interval. With
    `rule="crc32-mod10"` the key is `"test"` when the hash is 0 mod 10 and `"train"`
    otherwise (`split_fractions` is not used): the Tatoeba benchmark's split, whose key is
    the Russian side of a pair.

    Example:

    >>> hash_split("Я изучаю машинное обучение.", rule="crc32-mod10")
    'train'
    """
    fractions = _check_fractions(split_fractions)
    _check_split_rule(rule, "rule")
    data = key.encode("utf-8") if isinstance(key, str) else bytes(key)
    if rule == "crc32-mod10":
        return "test" if zlib.crc32(data) % 10 == 0 else "train"
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


def _check_split_rule(rule, name="split_rule"):
    if rule not in SPLIT_RULES:
        raise ValueError(
            f"Received {name}={rule!r}; expected one of {list(SPLIT_RULES)}: 'fractions' "
            "(train/validation/test by split_fractions) or 'crc32-mod10' (test when the key's "
            "crc32 is 0 mod 10, else train)."
        )


def _check_max_bad_rows(max_bad_rows):
    if not isinstance(max_bad_rows, int) or isinstance(max_bad_rows, bool) or max_bad_rows < 0:
        raise ValueError(
            f"Received max_bad_rows={max_bad_rows!r}; expected a count >= 0 of bad rows per "
            "file to skip (0: every bad row is an error)."
        )


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
    """The text of a local file (`.gz` allowed), refused when it is empty or not text.

    Invalid UTF-8 bytes are kept as lone surrogates (`surrogateescape`) so that the rows that
    hold them can be named; `_BAD_CHARACTER` finds them.
    """
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as file:
            data = file.read()
    except (OSError, EOFError) as error:  # gzip.BadGzipFile is an OSError
        raise ValueError(
            f"{path}: could not be read ({error}). Expected a UTF-8 text file, or gzip-compressed "
            "text with the .gz suffix."
        ) from error
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.strip():
        raise ValueError(
            f"{path}: the file is empty ({len(data)} bytes, no text). Expected UTF-8 text, one "
            "example a line; check that the file was written completely."
        )
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise ValueError(
            f"{path}: contains NUL bytes (first at byte {nul:,}, line {line}), so it is binary "
            "data or UTF-16/UTF-32 text, not UTF-8. Convert it to UTF-8 "
            "(e.g. `iconv -f UTF-16 -t UTF-8 in.tsv > out.tsv`) or pass the right file; "
            "max_bad_rows does not apply to files that are not text."
        )
    text = data.decode("utf-8", errors="surrogateescape")
    invalid = len(_INVALID_BYTE.findall(text))
    if invalid > max(MAX_INVALID_BYTE_FRACTION * len(data), _MIN_INVALID_BYTES):
        first = _INVALID_BYTE.search(text).start()
        raise ValueError(
            f"{path}: {invalid:,} of {len(data):,} bytes ({invalid / len(data):.1%}) are not valid "
            f"UTF-8 (first on line {text.count(chr(10), 0, first) + 1}); more than "
            f"{MAX_INVALID_BYTE_FRACTION:.0%} means the file is not UTF-8 text (binary data, or "
            "another encoding such as cp1251 or latin-1). Convert it (e.g. `iconv -f cp1251 -t "
            "UTF-8 in.tsv > out.tsv`) or pass the right file; max_bad_rows does not apply to "
            "files that are not text."
        )
    return text


def _raw_lines(path):
    """`(line_number, line)` of a file, 1-based; lines end at "\\n" only."""
    # `str.splitlines` would also break at U+2028, U+0085 and other separators inside a line.
    for number, line in enumerate(_read_text(path).split("\n"), start=1):
        yield number, line[:-1] if line.endswith("\r") else line


def _character_problem(line):
    """Why `line` is not clean text (invalid UTF-8, a control character), or `None`."""
    match = _BAD_CHARACTER.search(line)
    if match is None:
        return None
    character = ord(match.group())
    if character >= 0xDC80:
        return f"invalid UTF-8 byte 0x{character - 0xDC00:02X}"
    return f"control character U+{character:04X}"


class _BadRows:
    """Counts the bad rows of one file and enforces `max_bad_rows`."""

    def __init__(self, path, max_bad_rows, what="rows"):
        self.path, self.max_bad_rows, self.what = path, max_bad_rows, what
        self.rows, self.lines, self.first_reason = 0, [], None

    def add(self, number, reason):
        if not self.lines:
            self.first_reason = reason
        self.lines.append(number)

    def finish(self, report):
        bad = len(self.lines)
        file_report = FileReport(
            self.path, self.rows, bad, self.lines[0] if bad else None, self.first_reason
        )
        if bad > self.max_bad_rows:
            shown = ", ".join(map(str, self.lines[:10])) + (", ..." if bad > 10 else "")
            allowed = f" (max_bad_rows={self.max_bad_rows})" if self.max_bad_rows else ""
            raise ValueError(
                f"{self.path}: {bad:,} of {self.rows:,} {self.what} are bad{allowed} (first: line "
                f"{self.lines[0]}, {self.first_reason}; bad lines: {shown}). Fix the file, or "
                f"pass max_bad_rows={bad} (recipes: --max-bad-rows {bad}) to skip them."
            )
        if bad:
            warnings.warn(BadRowsWarning(file_report), stacklevel=4)
        if report is not None:
            report.append(file_report)
        return file_report


def _read_lines_of(paths, skip_empty, max_bad_rows=0, report=None):
    lines = []
    for path in paths:
        path = os.fspath(path)
        bad = _BadRows(path, max_bad_rows, what="lines")
        for number, line in _raw_lines(path):
            if not line.strip():
                if not skip_empty:
                    lines.append(line)
                continue
            bad.rows += 1
            problem = _character_problem(line)
            if problem:
                bad.add(number, problem)
                continue
            lines.append(line)
        bad.finish(report)
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


def _plural(count, word):
    return f"{count} {word}" + ("" if count == 1 else "s")


def _read_pairs(
    path,
    columns,
    source_column,
    target_column,
    direction,
    skip_header,
    max_bad_rows=0,
    report=None,
):
    source_column, target_column = _resolve_columns(
        columns, source_column, target_column, direction
    )
    needed = max(source_column, target_column) + 1
    rows = [(number, line) for number, line in _raw_lines(path)]
    if skip_header:
        rows = rows[1:]
    rows = [(number, line) for number, line in rows if line.strip()]  # blank lines: not data
    if not rows:
        raise ValueError(
            f"{path}: no rows{' after the header' if skip_header else ''}. Expected "
            "tab-separated sentence pairs, one a line."
        )
    split_rows = [(number, line, line.split("\t")) for number, line in rows]
    counts = collections.Counter(len(fields) for _, _, fields in split_rows)
    usable = {count: seen for count, seen in counts.items() if count >= needed}
    if not usable:
        widest = max(counts)
        if widest == 1:
            raise ValueError(
                f"{path}: none of its {len(rows):,} rows has a tab; it has 1 column where at "
                f"least {needed} tab-separated columns (source and target) are expected. "
                "Convert the file to tab-separated pairs (is it comma- or space-separated?), "
                "or load one sentence a line with load_text_dataset()."
            )
        raise ValueError(
            f"{path}: its rows have at most {widest} tab-separated columns, but "
            f"source_column={source_column} and target_column={target_column} need at least "
            f"{needed} columns. Pass columns= (or source_column=/target_column=) that exist in "
            "the file."
        )
    # The file's own column count: the most common one among rows wide enough.
    expected = min(usable, key=lambda count: (-usable[count], count))
    labels = list(columns) if columns is not None else []
    bad = _BadRows(path, max_bad_rows)
    pairs = []
    for number, line, fields in split_rows:
        bad.rows += 1
        problem = _character_problem(line)
        if problem is None and len(fields) != expected:
            problem = f"{_plural(len(fields), 'column')} where {expected} are expected"
        if problem is None:
            for side, column in (("source", source_column), ("target", target_column)):
                if not fields[column].strip():
                    name = f", {labels[column]}" if column < len(labels) and labels[column] else ""
                    problem = f"empty {side} field (column {column + 1}{name})"
                    break
        if problem:
            bad.add(number, problem)
            continue
        pairs.append((fields[source_column].strip(), fields[target_column].strip()))
    bad.finish(report)
    if not pairs:
        raise ValueError(
            f"No sentence pairs in {path}: all {len(rows):,} rows are bad (first: line "
            f"{bad.lines[0]}, {bad.first_reason}). Expected tab-separated lines with at least "
            f"{needed} columns; check the file and the column arguments."
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


def _select_split(items, split, split_fractions, key_function, rule="fractions"):
    if split == _ALL:
        return items
    fractions = _check_fractions(split_fractions)
    _check_split_rule(rule)
    return [item for item in items if hash_split(key_function(item), fractions, rule) == split]


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


def _bundled_corpus(split, value, allowed, message):
    """`zoo.data.corpus`, once `split` is one of its splits and `value` one of `allowed`
    (else a `ValueError` saying `message`)."""
    corpus = _corpus_module()
    _check_bundled_split(corpus, split)
    if value not in allowed:
        raise ValueError(message)
    return corpus


def _bundled_pairs(split, direction):
    corpus = _bundled_corpus(
        split,
        direction,
        ("ru-en", "en-ru"),
        f"Received direction={direction!r}; the bundled corpus is Russian-English, so use "
        "'ru-en' or 'en-ru'.",
    )
    return _pairs_dataset(list(corpus.load_pairs(split=split, direction=direction)))


def _bundled_text(language, split):
    corpus = _bundled_corpus(
        split,
        language,
        ("ru", "en"),
        f"Received language {language!r} for the bundled corpus; use 'bundled:ru' or 'bundled:en'.",
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
