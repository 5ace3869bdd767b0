"""Fuzzing: adversarial strings through every preprocessing layer, tokenizer and exported signature.

`adversarial_strings(count, seed)` makes `(category, bytes)` cases from a fixed seed: random
bytes, NUL, invalid UTF-8 (lone continuation bytes, overlong forms, encoded surrogates, code
points past U+10FFFF, truncated sequences), code points of every Unicode general category,
combining-mark stacks, right-to-left text with bidi controls, zero-width characters, emoji
with modifiers, mixed scripts, whitespace only, the empty string, `[MASK]` and other
reserved tokens typed in odd places, and very long strings.

Each consumer gets the cases in batches and must not raise, must keep the batch size, and
must keep the promises its docstring makes:

- preprocessing layers (`zoo.text.preprocessing`): valid UTF-8 out, no NUL ("every layer
  first replaces invalid UTF-8 and NUL characters with U+FFFD");
- tokenizers (`zoo.text.tokenizers`): ids inside the vocabulary, valid UTF-8 from
  `detokenize`; `detokenize(tokenize(x)) == x` for valid UTF-8 where the class promises it
  (character and byte-level BPE), the SentencePiece-normalized text for SentencePiece;
- exported SavedModel signatures (`zoo.export`): `translate`, `encode`, `fill_mask` and
  `generate` answer every string with the documented shapes, valid UTF-8 text and finite
  encodings, and blank strings (empty, whitespace, invalid bytes only) as blank.

By default 1,000 cases (long ones capped at 64 kB); `-m slow` runs 10,000 cases with
1 MB strings. A failure names the consumer, the case's category and its (truncated) repr.
"""

import functools
import random
import unicodedata
from array import array

import numpy as np
import pytest
import tensorflow as tf

from tests.test_export import bert, gpt, translator  # noqa: F401  (fixtures, see `served`)
from tests.text.test_preprocessing import adapted  # noqa: F401  (fixture, see below)
from tests.text.test_tokenizers import KINDS, trained
from zoo.export import export_bert, export_gpt, export_translator
from zoo.text import preprocessing, tokenizers

DEFAULT_COUNT = 1_000
SLOW_COUNT = 10_000
SEED = 20_251_031
DEFAULT_LONG = 64 * 1024  # bytes; the default run holds a few strings of this size
SLOW_LONG = 1 << 20  # 1 MB strings of the slow run
NUM_LONG = 8  # long strings per run, one of each kind

# ------------------------------------------------------------------------------ generator

GENERAL_CATEGORIES = (
    "Lu", "Ll", "Lt", "Lm", "Lo",
    "Mn", "Mc", "Me",
    "Nd", "Nl", "No",
    "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po",
    "Sm", "Sc", "Sk", "So",
    "Zs", "Zl", "Zp",
    "Cc", "Cf", "Cs", "Co", "Cn",
)  # fmt: skip

ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u180e\u00ad"  # ZWSP ZWNJ ZWJ WJ BOM MVS SHY
BIDI_CONTROLS = "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
WHITESPACE = (
    "\t\n\x0b\x0c\r \x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
ARABIC = ["مرحبا", "بالعالم", "الْعَرَبِيَّة", "١٢٣", "تعلم", "الآلة"]
HEBREW = ["שלום", "עולם", "לומדים", "בְּרֵאשִׁית", "מכונה"]
LATIN_CYRILLIC = ["hello", "world", "привет", "мир", "Paypal", "Рaypal", "рyсский", "ÉCOLE", "Ёж"]
OTHER_SCRIPTS = ["中文", "日本語", "한국어", "ελληνικά", "हिन्दी", "ไทย", "ქართული", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢"]
EMOJI = [
    "🙂", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇷🇺", "🇬🇧", "1️⃣", "👩🏿‍💻", "🧑‍🤝‍🧑", "❤️", "🫠",
    "\U0001f3fb",  # a skin-tone modifier alone
]  # fmt: skip
# Characters whose compatibility or case forms change length or script.
NORMALIZATION = [
    "ﬁ", "ﬃ", "①", "Ｆｕｌｌ", "ẞ", "ß", "İ", "ǅ", "\ufdfa", "\u3300", "\u1f87", "\u00c5",
    "\u212b", "A\u030a", "\uff76\uff9e",
]  # fmt: skip
RESERVED = ["[MASK]", "[CLS]", "[SEP]", "[PAD]", "[UNK]", "[BOS]", "[EOS]"]
MASK_FORMS = [
    "[MASK]", "[MASK][MASK]", "[[MASK]]", "[MAS[MASK]K]", "[mask]", "[ MASK ]", "[MASK",
    "MASK]", "слово[MASK]слово", "##[MASK]", "[MASK]##", "\u200b[MASK]\u200b", "[MA\u200dSK]",
]  # fmt: skip
INVALID_UTF8 = [
    b"\x80", b"\xbf", b"\x80\x80\x80",  # lone continuation bytes
    b"\xc0\xaf", b"\xc1\xbf", b"\xe0\x80\xaf", b"\xf0\x80\x80\xaf",  # overlong "/"
    b"\xf8\x88\x80\x80\xaf",  # an obsolete 5-byte form
    b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xed\xa0\xbd\xed\xb8\x80",  # surrogates, a surrogate pair
    b"\xf4\x90\x80\x80", b"\xf7\xbf\xbf\xbf",  # past U+10FFFF
    b"\xc3", b"\xe2\x82", b"\xf0\x9f\x99",  # truncated sequences
    b"\xfe", b"\xff", b"\xfe\xff", b"\xff\xfe",  # never valid
]  # fmt: skip


@functools.cache
def _code_points_by_category():
    """Every code point by Unicode general category (Python's `unicodedata` tables)."""
    table = {category: array("I") for category in GENERAL_CATEGORIES}
    category_of = unicodedata.category
    for point in range(0x110000):
        table[category_of(chr(point))].append(point)
    return table


def _code_points(category):
    return _code_points_by_category()[category]


def _utf8(text):
    """UTF-8 bytes of `text`; lone surrogates are encoded as they are (invalid UTF-8)."""
    return text.encode("utf-8", "surrogatepass")


def _category_text(rng, category):
    points = _code_points(category)
    chars = "".join(chr(points[rng.randrange(len(points))]) for _ in range(rng.randint(1, 12)))
    template = rng.choice(["{}", "a{}b", "{} слово", " {} ", "{}{}", "x {} [MASK] y"])
    return _utf8(template.format(chars, chars[::-1]))


def _random_bytes(rng):
    return bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))


def _nul(rng):
    word = rng.choice(LATIN_CYRILLIC)
    forms = ["\x00", "\x00" * 8, f"{word}\x00", f"\x00{word}", f"{word}\x00{word}"]
    return _utf8(rng.choice([*forms, "a\x00 b\x00\x00 [MASK]\x00"]))


def _invalid_utf8(rng):
    pieces = [rng.choice(INVALID_UTF8) for _ in range(rng.randint(1, 4))]
    words = [_utf8(rng.choice(LATIN_CYRILLIC + EMOJI)) for _ in range(rng.randint(0, 3))]
    mixed = pieces + words
    rng.shuffle(mixed)
    return rng.choice([b"", b" "]).join(mixed)


def _combining(rng):
    marks = _code_points("Mn")
    stack = "".join(chr(marks[rng.randrange(len(marks))]) for _ in range(rng.randint(1, 60)))
    base = rng.choice(["", "a", "Z", "ж", " ", "1", "🙂", "\u0301", "[MASK]"])
    return _utf8(rng.choice([base + stack, stack, f"{base}{stack} word{stack}"]))


def _rtl(rng):
    words = [rng.choice(ARABIC + HEBREW + LATIN_CYRILLIC[:4]) for _ in range(rng.randint(1, 6))]
    out = []
    for word in words:
        if rng.random() < 0.6:
            word = rng.choice(BIDI_CONTROLS) + word + rng.choice(BIDI_CONTROLS)
        out.append(word)
    return _utf8(" ".join(out))


def _zero_width(rng):
    if rng.random() < 0.3:  # zero-width characters alone
        return _utf8("".join(rng.choice(ZERO_WIDTH) for _ in range(rng.randint(1, 10))))
    word = rng.choice(LATIN_CYRILLIC + ARABIC)
    spots = sorted(rng.randrange(len(word) + 1) for _ in range(rng.randint(1, 4)))
    for spot in reversed(spots):
        word = word[:spot] + rng.choice(ZERO_WIDTH) + word[spot:]
    return _utf8(f"{word} {rng.choice(LATIN_CYRILLIC)}")


def _emoji(rng):
    return _utf8(rng.choice(["", " "]).join(rng.choice(EMOJI) for _ in range(rng.randint(1, 8))))


def _mixed_script(rng):
    words = [rng.choice(LATIN_CYRILLIC + OTHER_SCRIPTS + ARABIC) for _ in range(rng.randint(1, 8))]
    return _utf8(rng.choice([" ", "", ", ", "-"]).join(words))


def _whitespace(rng):
    return _utf8("".join(rng.choice(WHITESPACE) for _ in range(rng.randint(1, 20))))


def _empty(rng):
    return b""


def _control(rng):
    controls = [chr(c) for c in (*range(1, 32), *range(0x7F, 0xA0))]
    text = "".join(rng.choice(controls) for _ in range(rng.randint(1, 10)))
    return _utf8(rng.choice([text, f"a{text}b", f"\x1b[31mred\x1b[0m {text}", f"{text}[MASK]"]))


def _noncharacter(rng):
    points = [0xFFFE, 0xFFFF, 0xFDD0, 0xFDEF, 0x1FFFE, 0x10FFFF, 0x10FFFE, 0xFFFD, 0xE000]
    return _utf8("".join(chr(rng.choice(points)) for _ in range(rng.randint(1, 6))) + " text")


def _normalization(rng):
    return _utf8(" ".join(rng.choice(NORMALIZATION) for _ in range(rng.randint(1, 8))))


def _reserved(rng):
    """`[MASK]` and the other reserved tokens, typed in odd places."""
    vocabulary = LATIN_CYRILLIC + EMOJI + MASK_FORMS + RESERVED
    words = [rng.choice(vocabulary) for _ in range(rng.randint(1, 8))]
    text = rng.choice([" ", "", "\u200b", "\t"]).join(words)
    return rng.choice([b"", b"\xff", b"\x00"]) + _utf8(text) + rng.choice([b"", b"\xc3", b"[MASK]"])


def _mixed(rng):
    """Pieces of the other kinds glued together."""
    makers = [_random_bytes, _nul, _invalid_utf8, _combining, _rtl, _zero_width, _emoji, _reserved]
    return b"".join(rng.choice(makers)(rng) for _ in range(rng.randint(2, 5)))


_MAKERS = {
    "random_bytes": _random_bytes,
    "nul": _nul,
    "invalid_utf8": _invalid_utf8,
    "combining_marks": _combining,
    "rtl_bidi": _rtl,
    "zero_width": _zero_width,
    "emoji": _emoji,
    "mixed_script": _mixed_script,
    "whitespace": _whitespace,
    "empty": _empty,
    "control": _control,
    "noncharacter": _noncharacter,
    "normalization": _normalization,
    "reserved_tokens": _reserved,
    "mixed": _mixed,
    **{
        f"unicode_{category}": functools.partial(_category_text, category=category)
        for category in GENERAL_CATEGORIES
    },
}


def _long(rng, index, length):
    """A string of exactly `length` bytes (possibly ending in a cut UTF-8 sequence)."""
    kinds = [
        ("words", lambda: " ".join(rng.choice(LATIN_CYRILLIC + OTHER_SCRIPTS) for _ in range(64))),
        ("one_word", lambda: "слово"),
        ("random_bytes", None),
        ("combining_stack", lambda: "a" + "\u0301\u0308\u0327" * 20),
        ("emoji_zwj", lambda: "👨‍👩‍👧‍👦🏳️‍🌈"),
        ("mask_markers", lambda: "[MASK] "),
        ("whitespace", lambda: WHITESPACE),
        ("nul_and_invalid", lambda: "\x00\udcff\ufffd"),
    ]
    kind, unit = kinds[index % len(kinds)]
    if unit is None:
        data = rng.randbytes(length)
    else:
        piece = _utf8(unit())
        data = (piece * (length // len(piece) + 1))[:length]
    return f"long_{kind}", data


def adversarial_strings(count, seed=SEED, long_length=DEFAULT_LONG, num_long=NUM_LONG):
    """`count` deterministic `(category, bytes)` adversarial cases.

    The categories take turns, so any `count` >= `len(categories())` covers all of them;
    `num_long` of the cases (spread over the list) are `long_length` bytes long.
    """
    if count < len(_MAKERS) + num_long:
        raise ValueError(f"count={count} must cover the {len(_MAKERS)} categories + {num_long}.")
    rng = random.Random(seed)
    names = list(_MAKERS)
    long_at = {round(i * count / num_long) + count // (2 * num_long) for i in range(num_long)}
    cases, turn = [], 0
    for position in range(count):
        if position in long_at:
            cases.append(_long(rng, len([p for p in long_at if p < position]), long_length))
            continue
        name = names[turn % len(names)]
        turn += 1
        cases.append((name, _MAKERS[name](rng)))
    return cases


def categories():
    """The names of the short categories (long ones are `long_*`)."""
    return list(_MAKERS)


# ------------------------------------------------------------------------------- helpers

SIZES = [
    pytest.param("default", id="1k"),
    pytest.param("slow", id="10k", marks=pytest.mark.slow),
]


@functools.cache
def fuzz_cases(size):
    """The cases of one run size: 1,000 with 64 kB strings, or 10,000 with 1 MB ones.

    Either holds one long string of each long kind (`_long`)."""
    if size == "default":
        return tuple(adversarial_strings(DEFAULT_COUNT, SEED, DEFAULT_LONG, NUM_LONG))
    return tuple(adversarial_strings(SLOW_COUNT, SEED, SLOW_LONG, NUM_LONG))


def stratified(cases, per_category):
    """The first `per_category` cases of every category, in their original order."""
    seen, kept = {}, []
    for case in cases:
        if seen.get(case[0], 0) < per_category:
            seen[case[0]] = seen.get(case[0], 0) + 1
            kept.append(case)
    return kept


def describe(case, limit=160):
    category, text = case
    shown = repr(text[:limit]) + (f"... ({len(text)} bytes)" if len(text) > limit else "")
    return f"category={category!r} text={shown}"


def is_valid_utf8(data):
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# Characters every consumer must read as nothing: whitespace, C0/C1 controls, format
# characters the module doc of zoo.export names, and U+FFFD (invalid bytes after repair).
_BLANK = set(WHITESPACE) | {chr(c) for c in (*range(32), *range(0x7F, 0xA0))}
_BLANK |= set("\u200b\u200c\u200d\u2060\ufeff\u200e\u200f\ufffd")


def is_blank(data):
    """True for strings that `zoo.export` must treat as blank (a conservative subset)."""
    text = data.decode("utf-8", "replace")
    return all(c in _BLANK for c in text)


def feed(consumer, function, cases, batch_size, check):
    """`function` on batches of `cases`; on an error, finds and names the case that raised.

    `check(batch, outputs)` asserts the consumer's promises on one batch's outputs.
    """
    for start in range(0, len(cases), batch_size):
        batch = list(cases[start : start + batch_size])
        try:
            outputs = function(tf.constant([text for _, text in batch]))
        except Exception as error:  # any exception is a finding
            culprit = "the batch only"
            for case in batch:
                try:
                    function(tf.constant([case[1]]))
                except Exception:
                    culprit = describe(case)
                    break
            pytest.fail(
                f"{consumer} raised {type(error).__name__} on a batch of {len(batch)}: "
                f"{str(error)[:600]}\nfirst failing case alone: {culprit}"
            )
        check(batch, outputs)


def expect(condition, consumer, case, what):
    if not condition:
        pytest.fail(f"{consumer}: {what}\n{describe(case)}")


def strings_of(tensor):
    return [bytes(value) for value in np.asarray(tensor).reshape(-1)]


# ----------------------------------------------------------------------------- generator


@pytest.mark.parametrize("size", SIZES)
def test_generator_is_deterministic_and_covers_every_category(size):
    cases = fuzz_cases(size)
    count, longest = (DEFAULT_COUNT, DEFAULT_LONG) if size == "default" else (SLOW_COUNT, SLOW_LONG)
    assert len(cases) == count and all(isinstance(text, bytes) for _, text in cases)
    num_long = sum(category.startswith("long_") for category, _ in cases)
    assert list(cases) == adversarial_strings(count, SEED, longest, num_long=num_long)
    assert adversarial_strings(60, 1, num_long=1) != adversarial_strings(60, 2, num_long=1)
    found = {category for category, _ in cases}
    assert set(categories()) <= found
    assert {f"unicode_{category}" for category in GENERAL_CATEGORIES} <= found
    assert max(len(text) for _, text in cases) == longest
    assert sum(len(text) == longest for _, text in cases) == NUM_LONG
    assert len({category for category in found if category.startswith("long_")}) == NUM_LONG
    assert sum(b"\x00" in text for _, text in cases) >= count // 50
    assert sum(not is_valid_utf8(text) for _, text in cases) >= count // 15
    assert sum(is_blank(text) for _, text in cases) >= count // 50
    assert sum(b"[MASK]" in text for _, text in cases) >= count // 20
    assert b"" in {text for _, text in cases}


# ------------------------------------------------------------------ preprocessing layers


@pytest.mark.parametrize("size", SIZES)
def test_preprocessing_layers_never_fail(size, request):
    """Every adapted layer of tests/text/test_preprocessing.py: shape kept, clean UTF-8 out."""
    layers = request.getfixturevalue("adapted")
    classes = {type(layer).__name__ for layer in layers.values()}
    assert classes == {name for name in preprocessing.__all__ if name != "WORD_PATTERN"}
    cases = fuzz_cases(size)
    for name, layer in layers.items():
        consumer = f"{type(layer).__name__} ({name})"

        def check(batch, outputs, consumer=consumer):
            assert outputs.dtype == tf.string
            assert outputs.shape == (len(batch),), f"{consumer}: {outputs.shape} for {len(batch)}"
            for case, out in zip(batch, strings_of(outputs)):
                expect(is_valid_utf8(out), consumer, case, f"invalid UTF-8 out: {out[:80]!r}")
                expect(b"\x00" not in out, consumer, case, f"NUL out: {out[:80]!r}")

        feed(consumer, layer, cases, 128, check)


# ---------------------------------------------------------------------------- tokenizers

# Tokenizers whose docstring promises `detokenize(tokenize(x)) == x` for any Unicode text.
LOSSLESS = ("CharacterTokenizer", "BytePairTokenizer")
# WordPiece leaves invalid UTF-8 to FastWordpieceTokenizer, which makes it "[UNK]" but
# splits words at an invalid byte where a U+FFFD would not (a few more or fewer "[UNK]"
# in random binary data). Repairing first would cost ~50% of its tokenize time; served
# models repair before tokenizing (zoo.export), so only in-pipeline ids differ.
REPAIRED_BY_THE_OP = ("WordPieceTokenizer",)


def _sentencepiece_reference(tokenizer):
    import sentencepiece as spm

    processor = spm.SentencePieceProcessor(model_proto=tokenizer.proto)
    return lambda text: processor.decode(processor.encode(text))


def test_every_tokenizer_class_is_fuzzed():
    assert {cls.__name__ for cls, _, _ in KINDS.values()} == {
        name for name in tokenizers.__all__ if name.endswith("Tokenizer") and name != "Tokenizer"
    }


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", list(KINDS))
def test_tokenizers_never_fail_and_round_trip_as_promised(name, size):
    """tests/text/test_tokenizers.py's tokenizers: ids in range, (batch,) text back, round trips.

    Character and byte-level BPE promise an exact round trip of any Unicode text: valid
    UTF-8 comes back byte for byte, and so does the text they give back for invalid UTF-8
    (repaired to U+FFFD). SentencePiece promises its normalized text: what the
    `sentencepiece` library decodes from its own encoding of the repaired text. (Its
    normalization is not idempotent, e.g. a control character dropped between a letter
    and a combining mark, so the text given back need not round-trip again.) Invalid
    UTF-8 "is replaced with U+FFFD": raw bytes give the ids of the repaired text, except
    for WordPiece (see `REPAIRED_BY_THE_OP`).
    """
    tokenizer = trained(name)
    consumer = type(tokenizer).__name__
    size_of_vocabulary = tokenizer.vocabulary_size()
    reference = _sentencepiece_reference(tokenizer) if name == "sentencepiece" else None

    def tokenize(texts):
        ids = tokenizer.tokenize(texts)
        dense = tokenizer.tokenize(texts, sequence_length=16)
        repaired = tf.strings.unicode_transcode(texts, "UTF-8", "UTF-8", errors="replace")
        return ids, dense, tokenizer.detokenize(ids), repaired, tokenizer.tokenize(repaired)

    def check(batch, outputs):
        ids, dense, back, repaired, repaired_ids = outputs
        assert ids.nrows() == len(batch) and dense.shape == (len(batch), 16)
        assert back.shape == (len(batch),)
        flat = ids.flat_values.numpy()
        if flat.size:
            assert flat.min() >= 0 and flat.max() < size_of_vocabulary
        backs = strings_of(back)
        for case, out in zip(batch, backs):
            expect(is_valid_utf8(out), consumer, case, f"invalid UTF-8 detokenized: {out[:80]!r}")
        if consumer not in REPAIRED_BY_THE_OP:
            for case, row, repaired_row in zip(batch, ids.to_list(), repaired_ids.to_list()):
                what = f"ids {row[:12]} of the bytes, {repaired_row[:12]} of the text with U+FFFD"
                expect(row == repaired_row, consumer, case, what)
        if reference is not None:
            for case, out, text in zip(batch, backs, strings_of(repaired)):
                wanted = reference(text.decode("utf-8")).encode("utf-8")
                expect(out == wanted, consumer, case, f"gave {out[:120]!r}, spm {wanted[:120]!r}")
        if consumer not in LOSSLESS:
            return
        again = strings_of(tokenizer.detokenize(tokenizer.tokenize(tf.constant(backs))))
        for case, out, out_again in zip(batch, backs, again):
            if is_valid_utf8(case[1]):
                expect(out == case[1], consumer, case, f"round trip gave {out[:120]!r}")
            what = f"text given back {out[:120]!r} did not round-trip: {out_again[:120]!r}"
            expect(out_again == out, consumer, case, what)

    feed(consumer, tokenize, fuzz_cases(size), 128, check)


# ------------------------------------------------------------------- exported signatures

# (SavedModel, signature): every signature `zoo.export` writes.
SIGNATURES = [
    ("translator", "translate"),
    ("translator", "serving_default"),
    ("bert", "encode"),
    ("bert", "fill_mask"),
    ("bert", "serving_default"),
    ("gpt", "generate"),
    ("gpt", "serving_default"),
]
# The `serving_default` signatures are aliases of `translate`, `encode` and `generate`:
# in the default run they get this many cases per category (the slow run: every case).
ALIAS_PER_CATEGORY = 4
MAX_NEW_TOKENS = 2


@pytest.fixture(scope="module")
def served(request, tmp_path_factory):
    """The tiny BERT, GPT and Transformer of tests/test_export.py, exported and loaded once.

    The translator also holds the adapted Russian `Preprocessor` of
    tests/text/test_preprocessing.py, so a preprocessing layer runs inside a SavedModel too.
    """
    pretrainer, wordpiece = request.getfixturevalue("bert")
    gpt_model, sentencepiece = request.getfixturevalue("gpt")
    transformer = request.getfixturevalue("translator")[0]
    preprocessor = request.getfixturevalue("adapted")["preprocessor"]
    root = tmp_path_factory.mktemp("fuzz_saved_models")
    export_bert(pretrainer, wordpiece, str(root / "bert"), sequence_length=16)
    export_gpt(gpt_model, sentencepiece, str(root / "gpt"), prompt_length=6, max_new_tokens=4)
    export_translator(
        transformer,
        wordpiece,
        str(root / "translator"),
        source_length=8,
        max_length=8,
        preprocessor=preprocessor,
    )
    return {name: tf.saved_model.load(str(root / name)) for name in ("translator", "bert", "gpt")}


def test_every_exported_signature_is_fuzzed(served):
    found = {(name, key) for name, loaded in served.items() for key in loaded.signatures}
    assert found == set(SIGNATURES)


def _call_signature(function, texts):
    """Feed `texts` to the string input of a signature (and a small int to any int input)."""
    _, specs = function.structured_input_signature
    inputs = {
        key: texts if spec.dtype == tf.string else tf.constant(MAX_NEW_TOKENS, spec.dtype)
        for key, spec in specs.items()
    }
    return function(**inputs)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("model, signature", SIGNATURES)
def test_exported_signatures_never_fail(model, signature, size, served):
    """Every string gets an answer of the documented shape; blank strings get blank answers."""
    function = served[model].signatures[signature]
    consumer = f"{model} SavedModel, signature {signature!r}"
    cases = fuzz_cases(size)
    if size == "default" and signature == "serving_default":
        cases = stratified(cases, ALIAS_PER_CATEGORY)

    def check(batch, outputs):
        for key, value in outputs.items():
            assert value.shape[0] == len(batch), f"{consumer}: {key} {value.shape}, {len(batch)} in"
        if model == "bert" and "pooled_output" in outputs:
            pooled = outputs["pooled_output"].numpy()
            sequence = outputs["sequence_output"].numpy()
            assert sequence.shape == (len(batch), 16, pooled.shape[1])
            for case, row, rows in zip(batch, pooled, sequence):
                expect(np.isfinite(row).all() and np.isfinite(rows).all(), consumer, case, "NaN")
                if is_blank(case[1]):
                    expect(not row.any() and not rows.any(), consumer, case, "blank not zeros")
            return
        texts = {key: strings_of(value) for key, value in outputs.items()}
        for index, case in enumerate(batch):
            for key, values in texts.items():
                expect(is_valid_utf8(values[index]), consumer, case, f"{key}: invalid UTF-8 out")
            if not is_blank(case[1]):
                continue
            if model == "gpt":  # a blank prompt is the empty prompt: the text is not echoed
                same = texts["text"][index] == texts["completion"][index]
                expect(same, consumer, case, "blank prompt echoed")
            else:
                answer = texts["translation" if model == "translator" else "text"][index]
                expect(answer == b"", consumer, case, f"blank input answered {answer[:80]!r}")

    feed(consumer, lambda texts: _call_signature(function, texts), cases, 64, check)


# (SavedModel, method, the shapes of its outputs for one string) of the loaded objects,
# which also take a scalar string.
METHODS = [
    ("translator", "translate", {"": ()}),
    ("bert", "encode", {"pooled_output": (16,), "sequence_output": (16, 16), "windows": ()}),
    ("bert", "fill_mask", {"": ()}),
    ("gpt", "generate", {"text": (), "completion": (), "truncated": ()}),
]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("model, method, shapes", METHODS)
def test_exported_methods_take_one_adversarial_string(model, method, shapes, size, served):
    """The loaded object's methods, called with one string (a scalar) per case."""
    function = getattr(served[model], method)
    consumer = f"{model} SavedModel, method {method}() on a scalar"
    per_category = 1 if size == "default" else 10
    for case in stratified(fuzz_cases(size), per_category):
        text = tf.constant(case[1])
        arguments = (text, tf.constant(MAX_NEW_TOKENS)) if method == "generate" else (text,)
        try:
            outputs = function(*arguments)
        except Exception as error:  # any exception is a finding
            message = f"{consumer} raised {type(error).__name__}: {str(error)[:600]}"
            pytest.fail(f"{message}\n{describe(case)}")
        outputs = outputs if isinstance(outputs, dict) else {"": outputs}
        got = {key: tuple(value.shape) for key, value in outputs.items()}
        expect(got == shapes, consumer, case, f"output shapes {got}, expected {shapes}")
