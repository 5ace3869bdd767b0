"""Pretrained tokenizers (`from_preset`) give the ids of the tokenizer they came with.

Every checkpoint is written here, small, from the bundled corpus: a BERT `vocab.txt`, GPT-2
and RoBERTa `vocab.json` + `merges.txt` trained with HF `tokenizers`, a Marian directory
with SentencePiece models trained with `sentencepiece`, keras-hub presets from
`save_to_preset`. Nothing is downloaded. The references: HF `tokenizers` objects, the
`sentencepiece` package with Marian's vocab.json lookup, keras-hub's own tokenizers.
"""

import io
import json
import os
import sys

import numpy as np
import pytest
import tensorflow as tf

from tests.text.serving import RaggedTokenizerModule, serve
from zoo.data.corpus import load_text
from zoo.text import load_tokenizer
from zoo.text.tokenizers import (
    BytePairTokenizer,
    SentencePieceTokenizer,
    Tokenizer,
    WordPieceTokenizer,
    _unicode_tables,
    from_preset,
)

# The mixed-script test text: Russian, English, digits, punctuation, emoji, accents, and
# the whitespace and casing corners of the BERT and GPT-2 rules.
MIXED = [
    "Я изучаю машинное обучение, а ёжик — нет! I study machine learning since 2024.",
    "Цена: 3.14 × 42 = 131,88 ₽ (≈ $1.5); «цитата» и „ещё одна“… #тег @user",
    "Café, naïve résumé, Ångström, façade; ÀÉÎÕÜ, Ёлка и Йошкар-Ола, straße, ΟΔΟΣ İstanbul",
    "emoji 🙂👍🏽👨‍👩‍👧 🇷🇺 ❤️ — don't, we'll, I'M, it's 'quoted'",
    "  leading and trailing  ",
    "tabs\tand\nnew lines\r\n\n  indented   spaces\u00a0nbsp\u3000ideographic\u2009thin",
    "中文字符 and 日本語 mixed with ελληνικά and हिन्दी",
    "12345678 1,000,000 0.001 ١٢٣ Ⅻ ① ²",
    "control \x00\x01\x07 chars\x7f, zero\u200bwidth, soft\u00adhyphen, U+FFFD \ufffd",
    "",
    " ",
    "a" * 120 + " " + "ё" * 60 + " ok",
]

# keras-hub's graph path stops at a NUL character (see the keras-hub tests).
WITHOUT_NUL = [text for text in MIXED if "\x00" not in text]

_CORPUS = []


def corpus():
    """Training text: the bundled Russian and English corpus, plus the test text."""
    if not _CORPUS:
        _CORPUS.extend(load_text("ru", "train")[:3000] + load_text("en", "train")[:3000])
        _CORPUS.extend(MIXED * 3)
    return _CORPUS


# The character-table tests read every code point in the slow run, the Basic Multilingual
# Plane (where the tables differ most from TensorFlow's) in the default one.
PLANES = [
    pytest.param(0x10000, id="bmp"),
    pytest.param(0x110000, id="all", marks=pytest.mark.slow),
]


def code_points_below(end):
    return [c for c in range(end) if not 0xD800 <= c <= 0xDFFF]


def write_json(path, value):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, ensure_ascii=False)


def ids_of(tokenizer, texts=MIXED):
    return tokenizer(tf.constant(texts)).to_list()


def hf_ids(hf, texts=MIXED):
    return [e.ids for e in hf.encode_batch(texts, add_special_tokens=False)]


# ------------------------------------------------------------------------- checkpoints
BERT_SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def bert_vocabulary(lowercase):
    """A WordPiece vocabulary in BERT's layout: [PAD] 0, [unused*], [UNK] [CLS] [SEP] [MASK]."""
    from tokenizers import Tokenizer as HFTokenizer
    from tokenizers import models, normalizers, pre_tokenizers, trainers

    hf = HFTokenizer(models.WordPiece(unk_token="[UNK]"))
    hf.normalizer = normalizers.BertNormalizer(lowercase=lowercase)
    hf.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(vocab_size=900, special_tokens=BERT_SPECIAL)
    hf.train_from_iterator(corpus(), trainer=trainer)
    vocab = hf.get_vocab()
    learned = [t for t in sorted(vocab, key=vocab.get) if t not in BERT_SPECIAL]
    return ["[PAD]", *(f"[unused{i}]" for i in range(5)), *BERT_SPECIAL[1:], *learned]


def write_bert(directory, lowercase, strip_accents=None):
    os.makedirs(directory, exist_ok=True)
    vocabulary = bert_vocabulary(lowercase)
    with open(os.path.join(directory, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("".join(f"{token}\n" for token in vocabulary))
    write_json(os.path.join(directory, "config.json"), {"model_type": "bert", "vocab_size": 1})
    config = {"do_lower_case": lowercase, "tokenizer_class": "BertTokenizer"}
    if strip_accents is not None:
        config["strip_accents"] = strip_accents
    write_json(os.path.join(directory, "tokenizer_config.json"), config)
    return vocabulary


def bert_reference(directory, lowercase, strip_accents=None):
    from tokenizers import BertWordPieceTokenizer

    return BertWordPieceTokenizer(
        os.path.join(directory, "vocab.txt"), lowercase=lowercase, strip_accents=strip_accents
    )


def byte_level_model():
    """vocab (token -> id) and merges of a byte-level BPE trained with HF on the corpus."""
    from tokenizers import ByteLevelBPETokenizer

    hf = ByteLevelBPETokenizer()
    hf.train_from_iterator(corpus(), vocab_size=1500, show_progress=False)
    model = json.loads(hf._tokenizer.to_str())["model"]
    merges = [m if isinstance(m, str) else " ".join(m) for m in model["merges"]]
    return model["vocab"], merges


def write_byte_level(directory, model_type, add_prefix_space=False):
    """GPT-2 layout (<|endoftext|> last) or RoBERTa's (<s> <pad> </s> <unk> first, <mask> last)."""
    os.makedirs(directory, exist_ok=True)
    vocab, merges = byte_level_model()
    learned = sorted(vocab, key=vocab.get)
    if model_type == "gpt2":
        tokens = [*learned, "<|endoftext|>"]
    else:
        tokens = ["<s>", "<pad>", "</s>", "<unk>", *learned, "<mask>"]
    write_json(os.path.join(directory, "vocab.json"), {t: i for i, t in enumerate(tokens)})
    with open(os.path.join(directory, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "".join(f"{m}\n" for m in merges))
    write_json(os.path.join(directory, "config.json"), {"model_type": model_type})
    write_json(
        os.path.join(directory, "tokenizer_config.json"), {"add_prefix_space": add_prefix_space}
    )
    return tokens


def byte_level_reference(directory, tokens, add_prefix_space=False):
    from tokenizers import ByteLevelBPETokenizer

    hf = ByteLevelBPETokenizer(
        os.path.join(directory, "vocab.json"),
        os.path.join(directory, "merges.txt"),
        add_prefix_space=add_prefix_space,
    )
    hf.add_special_tokens([t for t in tokens if t.startswith("<") and t.endswith(">")])
    return hf


def train_sentencepiece(texts, vocabulary_size):
    import sentencepiece as spm

    writer = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(texts),
        model_writer=writer,
        vocab_size=vocabulary_size,
        model_type="unigram",
        character_coverage=1.0,
        unk_id=0,
        bos_id=1,
        eos_id=2,
        pad_id=-1,
        num_threads=1,
        minloglevel=2,
    )
    return writer.getvalue()


def write_marian(directory):
    """opus-mt layout: source.spm (ru), target.spm (en), one vocab.json numbered otherwise.

    As in Marian's shared vocabularies, vocab.json starts with </s> and <unk> and ends with
    <pad>; five source pieces are left out of it, so that pieces outside vocab.json (and
    unknown characters) map to <unk> as in MarianTokenizer.
    """
    import sentencepiece as spm

    os.makedirs(directory, exist_ok=True)
    source = train_sentencepiece(load_text("ru", "train")[:3000], 500)
    target = train_sentencepiece(load_text("en", "train")[:3000], 400)
    pieces = {}
    for side, proto in (("source", source), ("target", target)):
        with open(os.path.join(directory, f"{side}.spm"), "wb") as f:
            f.write(proto)
        pieces[side] = spm.SentencePieceProcessor(model_proto=proto)
    tokens = ["</s>", "<unk>"]
    for processor in (pieces["target"], pieces["source"]):
        for index in range(processor.get_piece_size()):
            piece = processor.id_to_piece(index)
            if piece not in tokens and piece != "<s>":
                tokens.append(piece)
    left_out = {pieces["source"].id_to_piece(index) for index in range(40, 45)}
    tokens = [t for t in tokens if t not in left_out] + ["<pad>"]
    vocab = {t: i for i, t in enumerate(tokens)}
    write_json(os.path.join(directory, "vocab.json"), vocab)
    write_json(
        os.path.join(directory, "config.json"),
        {"model_type": "marian", "pad_token_id": vocab["<pad>"], "eos_token_id": 0},
    )
    write_json(
        os.path.join(directory, "tokenizer_config.json"),
        {"source_lang": "ru", "target_lang": "en", "tokenizer_class": "MarianTokenizer"},
    )
    return vocab, pieces


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """name -> (directory, extra) for every checkpoint the tests load."""
    root = tmp_path_factory.mktemp("checkpoints")
    out = {}
    for name, lowercase in (("bert_uncased", True), ("bert_cased", False)):
        out[name] = (str(root / name), write_bert(str(root / name), lowercase))
    out["gpt2"] = (str(root / "gpt2"), write_byte_level(str(root / "gpt2"), "gpt2"))
    out["roberta"] = (str(root / "roberta"), write_byte_level(str(root / "roberta"), "roberta"))
    out["marian"] = (str(root / "marian"), write_marian(str(root / "marian")))
    return out


# -------------------------------------------------------------------------------- BERT
@pytest.mark.parametrize("lowercase", [True, False], ids=["uncased", "cased"])
def test_bert_vocab_txt_matches_hugging_face(checkpoints, lowercase):
    directory, vocabulary = checkpoints["bert_uncased" if lowercase else "bert_cased"]
    tokenizer = load_tokenizer(directory)
    assert type(tokenizer) is WordPieceTokenizer
    assert tokenizer.rules == "bert" and tokenizer.lowercase is lowercase
    assert tokenizer.get_vocabulary() == vocabulary
    # The special tokens keep their ids in vocab.txt and get their roles.
    assert tokenizer.pad_token_id == 0
    assert [tokenizer.unk_token_id, tokenizer.cls_token_id] == [6, 7]
    assert [tokenizer.sep_token_id, tokenizer.mask_token_id] == [8, 9]
    assert tokenizer.bos_token_id is None and tokenizer.eos_token_id is None
    assert sorted(tokenizer.reserved_tokens) == sorted(BERT_SPECIAL)
    reference = bert_reference(directory, lowercase)
    assert ids_of(tokenizer) == hf_ids(reference)
    assert ids_of(tokenizer, corpus()[:500]) == hf_ids(reference, corpus()[:500])


def test_bert_options_follow_the_checkpoint(tmp_path):
    # strip_accents=False with lowercase (multilingual-cased-style settings), and the same
    # checkpoint written as a tokenizer.json only (fast tokenizers).
    write_bert(str(tmp_path / "bert"), lowercase=True, strip_accents=False)
    tokenizer = from_preset(str(tmp_path / "bert"))
    assert tokenizer.strip_accents is False
    reference = bert_reference(str(tmp_path / "bert"), True, strip_accents=False)
    assert ids_of(tokenizer) == hf_ids(reference)

    os.makedirs(tmp_path / "fast")
    reference._tokenizer.save(str(tmp_path / "fast" / "tokenizer.json"))
    write_json(str(tmp_path / "fast" / "config.json"), {"model_type": "bert"})
    fast = from_preset(str(tmp_path / "fast"))
    assert fast.get_vocabulary() == tokenizer.get_vocabulary()
    assert fast.strip_accents is False and fast.unk_token_id == 6
    assert ids_of(fast) == hf_ids(reference)


@pytest.mark.parametrize("end", PLANES)
def test_bert_rules_match_hugging_face_on_every_code_point(end):
    """BertNormalizer + BertPreTokenizer, in graph, for each code point."""
    from tokenizers import normalizers, pre_tokenizers

    code_points = code_points_below(end)
    texts = [f"x{chr(c)}y {chr(c)}" for c in code_points]
    tokenizer = WordPieceTokenizer(["[UNK]"], normalization_form=None, rules="bert")
    words = tokenizer._words(tf.constant(texts)).to_list()
    normalizer = normalizers.BertNormalizer(lowercase=True)
    pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    different = [
        hex(c)
        for c, text, got in zip(code_points, texts, words)
        if [w.decode() for w in got]
        != [w for w, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(text))]
    ]
    assert different == []


# ----------------------------------------------------------------------- GPT-2, RoBERTa
# Whitespace runs, contractions and scripts where GPT-2's split pattern matters.
BYTE_LEVEL_PROBES = [
    "a  b",
    "a \tb",
    "a\t\tb",
    "  a",
    "a  ",
    " 's 'll x's I'M",
    "x \u00a0y",
    "\n\n\nz",
    "e\u0301 and \u1c89 and \U000105c0",
]


@pytest.mark.parametrize("model_type", ["gpt2", "roberta"])
def test_byte_level_bpe_matches_hugging_face(checkpoints, model_type):
    directory, tokens = checkpoints[model_type]
    tokenizer = load_tokenizer(directory)
    assert type(tokenizer) is BytePairTokenizer
    assert tokenizer.rules == "gpt2" and tokenizer.get_vocabulary() == tokens
    reference = byte_level_reference(directory, tokens)
    texts = MIXED + BYTE_LEVEL_PROBES + corpus()[:300]
    assert ids_of(tokenizer, texts) == hf_ids(reference, texts)
    if model_type == "gpt2":
        end = len(tokens) - 1
        assert [tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.unk_token_id] == [
            end,
            end,
            end,
        ]
        assert tokenizer.pad_token_id is None
    else:
        assert [tokenizer.bos_token_id, tokenizer.pad_token_id, tokenizer.eos_token_id] == [
            0,
            1,
            2,
        ]
        assert [tokenizer.unk_token_id, tokenizer.mask_token_id] == [3, len(tokens) - 1]
        assert [tokenizer.cls_token_id, tokenizer.sep_token_id] == [0, 2]
    # Byte-level BPE gives any text back.
    text = [t for t in texts if t]
    decoded = tokenizer.detokenize(tokenizer(tf.constant(text))).numpy()
    assert [d.decode("utf-8") for d in decoded] == text


def test_byte_level_bpe_add_prefix_space_and_tokenizer_json(tmp_path):
    tokens = write_byte_level(str(tmp_path / "roberta"), "roberta", add_prefix_space=True)
    tokenizer = from_preset(str(tmp_path / "roberta"))
    assert tokenizer.add_prefix_space is True
    reference = byte_level_reference(str(tmp_path / "roberta"), tokens, add_prefix_space=True)
    texts = MIXED + BYTE_LEVEL_PROBES
    assert ids_of(tokenizer, texts) == hf_ids(reference, texts)

    os.makedirs(tmp_path / "fast")
    reference._tokenizer.save(str(tmp_path / "fast" / "tokenizer.json"))
    write_json(str(tmp_path / "fast" / "config.json"), {"model_type": "roberta"})
    fast = from_preset(str(tmp_path / "fast"))
    assert fast.get_vocabulary() == tokens and fast.add_prefix_space is True
    assert ids_of(fast, texts) == hf_ids(reference, texts)


def test_gpt2_split_matches_hugging_face_on_random_text(checkpoints):
    import random

    directory, tokens = checkpoints["gpt2"]
    tokenizer = from_preset(directory)
    reference = byte_level_reference(directory, tokens)
    alphabet = list("ab Яя1 2'sdtlmrve!?.,-_\t\n\r\x0b\x0c\u00a0\u2009\u3000\u0085\x00") + [
        "🙂",
        "é",
        "e\u0301",
        "中",
        "١",
        "Ⅻ",
        "  ",
        "\n\n",
        " 's",
        "'ll",
        "\u1c89",
    ]
    rng = random.Random(0)
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 20))) for _ in range(1500)]
    assert ids_of(tokenizer, texts) == hf_ids(reference, texts)


@pytest.mark.parametrize("end", PLANES)
def test_gpt2_character_classes_match_hugging_face(end):
    """GPT-2's letter, number and whitespace classes of HF (Oniguruma) on every code point."""
    from tokenizers import pre_tokenizers

    pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    code_points = code_points_below(end)

    def joined_to(prefix):
        # " " + prefix + c for each c: the word is prefix + c exactly when c continues it.
        text = "".join(f" {prefix}{chr(c)}" for c in code_points)
        words = {text[a:b] for _, (a, b) in pre_tokenizer.pre_tokenize_str(text)}
        return {c for c in code_points if f" {prefix}{chr(c)}" in words}

    letters, numbers, others = joined_to("a"), joined_to("1"), joined_to("!")
    characters = tf.constant([chr(c).encode() for c in code_points])

    def re2(pattern):
        matches = tf.strings.regex_full_match(characters, pattern).numpy()
        return {c for c, m in zip(code_points, matches) if m}

    from zoo.text.tokenizers import byte_pair

    assert re2(byte_pair._GPT2_LETTER) == letters
    assert re2(byte_pair._GPT2_NUMBER) == numbers
    whitespace = {c for a, b in _unicode_tables.GPT2_WHITESPACE for c in range(a, b + 1)}
    assert set(code_points) - letters - numbers - others == whitespace


# ------------------------------------------------------------------------------- Marian
@pytest.mark.parametrize("side", ["source", "target"])
def test_marian_matches_sentencepiece_through_vocab_json(checkpoints, side):
    directory, (vocab, processors) = checkpoints["marian"]
    tokenizer = from_preset(directory, side=side)
    assert type(tokenizer) is SentencePieceTokenizer
    assert tokenizer.get_vocabulary() == sorted(vocab, key=vocab.get)
    assert [tokenizer.eos_token_id, tokenizer.unk_token_id] == [0, 1]
    assert tokenizer.pad_token_id == len(vocab) - 1 and tokenizer.bos_token_id is None
    # MarianTokenizer: SentencePiece pieces (unknown characters as their text), looked up
    # in vocab.json, <unk> when absent.
    processor = processors[side]
    texts = MIXED + corpus()[:300]
    expected = [
        [vocab.get(piece, vocab["<unk>"]) for piece in processor.encode(text, out_type=str)]
        for text in texts
    ]
    # MarianTokenizer ends every source text with </s>; target ids get no eos.
    end = [vocab["</s>"]] if side == "source" else []
    assert tokenizer.add_eos is (side == "source")
    assert ids_of(tokenizer, texts) == [row + end for row in expected]
    assert any(vocab["<unk>"] in row for row in expected)  # the fallback is exercised
    # detokenize drops the </s>: the text is that of the ids without it.
    ids = tokenizer(tf.constant(texts[:20]))
    without = tf.ragged.constant(expected[:20], dtype=tf.int32)
    back = tokenizer.detokenize(ids).numpy().tolist()
    assert back == tokenizer.detokenize(without).numpy().tolist()
    assert any(len(text) > 0 for text in back)


def test_marian_needs_a_side_and_refuses_language_codes(checkpoints, tmp_path):
    directory, (vocab, _) = checkpoints["marian"]
    with pytest.raises(ValueError, match="side='source'"):
        from_preset(directory)
    with pytest.raises(ValueError, match="side"):
        from_preset(checkpoints["gpt2"][0], side="source")
    # A multilingual model's vocabulary has ">>fra<<" codes, which MarianTokenizer cuts off
    # the source text; Zoo refuses instead of giving other ids.
    for name in ("source.spm", "target.spm", "config.json", "tokenizer_config.json"):
        with open(os.path.join(directory, name), "rb") as f, open(tmp_path / name, "wb") as g:
            g.write(f.read())
    write_json(str(tmp_path / "vocab.json"), {**vocab, ">>fra<<": len(vocab)})
    with pytest.raises(ValueError, match="language-code"):
        from_preset(str(tmp_path), side="source")
    assert from_preset(str(tmp_path), side="target").vocabulary_size() == len(vocab) + 1


@pytest.mark.parametrize("name", ["bert_uncased", "bert_cased", "gpt2", "roberta", "marian"])
def test_matches_transformers(checkpoints, name):
    """Against the transformers tokenizers themselves (MarianTokenizer for Marian).

    transformers is not a Zoo dependency: this runs only where it is installed and is
    skipped otherwise (as in the default environment). Checked with transformers 5.25.
    """
    transformers = pytest.importorskip("transformers")
    directory, _ = checkpoints[name]
    texts = MIXED + BYTE_LEVEL_PROBES
    if name != "marian":
        reference = transformers.AutoTokenizer.from_pretrained(directory)
        expected = [reference(t, add_special_tokens=False)["input_ids"] for t in texts]
        assert ids_of(from_preset(directory), texts) == expected
        return
    reference = transformers.MarianTokenizer.from_pretrained(directory)
    source = reference(texts)["input_ids"]  # with the </s> MarianTokenizer appends
    target = reference(text_target=texts, add_special_tokens=False)["input_ids"]
    assert ids_of(from_preset(directory, side="source"), texts) == source
    assert ids_of(from_preset(directory, side="target"), texts) == target


# ---------------------------------------------------------------------------- keras-hub
@pytest.mark.parametrize("strip_accents", [False, True])
def test_keras_hub_bert_preset_matches_keras_hub(checkpoints, tmp_path, strip_accents):
    keras_hub = pytest.importorskip("keras_hub")
    from zoo.text.tokenizers.pretrained import from_keras_hub_tokenizer

    _, vocabulary = checkpoints["bert_uncased"]
    reference = keras_hub.models.BertTokenizer(
        vocabulary=vocabulary, lowercase=True, strip_accents=strip_accents
    )
    reference.save_to_preset(str(tmp_path))
    tokenizer = from_preset(str(tmp_path))
    assert type(tokenizer) is WordPieceTokenizer and tokenizer.rules == "keras_hub"
    assert tokenizer.get_vocabulary() == vocabulary
    assert [tokenizer.pad_token_id, tokenizer.unk_token_id, tokenizer.cls_token_id] == [0, 6, 7]
    # keras-hub runs Python eagerly and TensorFlow ops in graphs; the graph path loses the
    # text after a NUL character (tensorflow-text's regex_split stops there), Zoo does not.
    eager = [[int(i) for i in row] for row in reference(MIXED)]
    graph = tf.function(reference)(tf.constant(WITHOUT_NUL)).to_list()
    assert ids_of(tokenizer) == eager
    assert ids_of(tokenizer, WITHOUT_NUL) == graph
    # A live keras-hub tokenizer converts the same way.
    assert ids_of(from_keras_hub_tokenizer(reference)) == eager


def test_keras_hub_gpt2_preset_matches_keras_hub_and_hugging_face(checkpoints, tmp_path):
    keras_hub = pytest.importorskip("keras_hub")
    from zoo.text.tokenizers.pretrained import from_keras_hub_tokenizer

    directory, tokens = checkpoints["gpt2"]
    vocab, merges = byte_level_model()
    vocab = {**vocab, "<|endoftext|>": len(vocab)}
    reference = keras_hub.models.GPT2Tokenizer(vocabulary=vocab, merges=merges)
    reference.save_to_preset(str(tmp_path))
    tokenizer = from_preset(str(tmp_path))
    assert type(tokenizer) is BytePairTokenizer and tokenizer.rules == "gpt2"
    assert tokenizer.get_vocabulary() == tokens
    assert tokenizer.eos_token_id == len(tokens) - 1
    eager = [[int(i) for i in row] for row in reference(MIXED)]
    graph = tf.function(reference)(tf.constant(WITHOUT_NUL)).to_list()
    assert ids_of(tokenizer) == eager
    assert ids_of(tokenizer, WITHOUT_NUL) == graph
    assert ids_of(tokenizer) == hf_ids(byte_level_reference(directory, tokens))
    assert ids_of(from_keras_hub_tokenizer(reference)) == eager
    # keras-hub's graph path uses "६" (DEVANAGARI DIGIT SIX) as an internal marker and
    # drops it from the text; Zoo keeps GPT-2's (and keras-hub's eager path's) ids.
    devanagari = ["digit ६ six"]
    assert ids_of(tokenizer, devanagari) == [[int(i) for i in reference(devanagari[0])]]


# ------------------------------------------------------------------------- SavedModel
def test_loaded_tokenizers_serve_from_a_saved_model(checkpoints, tmp_path):
    keras_hub = pytest.importorskip("keras_hub")
    _, bert_vocabulary_ = checkpoints["bert_uncased"]
    keras_hub.models.BertTokenizer(vocabulary=bert_vocabulary_, lowercase=True).save_to_preset(
        str(tmp_path / "keras_hub_bert")
    )
    tokenizers = {
        "bert": from_preset(checkpoints["bert_uncased"][0]),
        "gpt2": from_preset(checkpoints["gpt2"][0]),
        "roberta": from_preset(checkpoints["roberta"][0]),
        "marian_source": from_preset(checkpoints["marian"][0], side="source"),
        "marian_target": from_preset(checkpoints["marian"][0], side="target"),
        "keras_hub_bert": from_preset(str(tmp_path / "keras_hub_bert")),
    }
    texts = MIXED + BYTE_LEVEL_PROBES
    modules = {name: RaggedTokenizerModule(t) for name, t in tokenizers.items()}
    served = serve(modules, texts, tmp_path)
    for name, tokenizer in tokenizers.items():
        ragged = served[name]["values"], served[name]["row_splits"]
        assert tf.RaggedTensor.from_row_splits(*ragged).to_list() == ids_of(tokenizer, texts), name


def test_loaded_tokenizers_save_and_load_with_equal_ids(checkpoints, tmp_path):
    cases = [("bert_cased", None), ("roberta", None), ("marian", "target"), ("marian", "source")]
    for name, side in cases:
        tokenizer = from_preset(checkpoints[name][0], side=side, sequence_length=16)
        tokenizer.save(str(tmp_path / f"{name}_{side}"))
        restored = load_tokenizer(str(tmp_path / f"{name}_{side}"))
        if name == "marian":  # the source's add_eos is saved and restored
            assert restored.add_eos is tokenizer.add_eos is (side == "source")
        assert type(restored) is type(tokenizer)
        assert restored.get_config() == tokenizer.get_config()
        assert restored.pad_token_id == tokenizer.pad_token_id
        assert restored.eos_token_id == tokenizer.eos_token_id
        dense = restored(tf.constant(MIXED)).numpy()
        assert dense.shape == (len(MIXED), 16)
        np.testing.assert_array_equal(dense, tokenizer(tf.constant(MIXED)).numpy())


# --------------------------------------------------------------------- what is refused
def test_unknown_model_type_is_refused(tmp_path):
    write_json(str(tmp_path / "config.json"), {"model_type": "t5"})
    with pytest.raises(ValueError, match=r"model_type='t5'.*'bert', 'roberta', 'gpt2', 'marian'"):
        load_tokenizer(str(tmp_path))
    os.remove(tmp_path / "config.json")
    write_json(str(tmp_path / "tokenizer_config.json"), {"tokenizer_class": "T5Tokenizer"})
    with pytest.raises(ValueError, match="tokenizer_class='T5Tokenizer'"):
        from_preset(str(tmp_path))


def test_fields_zoo_cannot_reproduce_are_refused(checkpoints, tmp_path):
    from tokenizers import BertWordPieceTokenizer

    directory, _ = checkpoints["bert_uncased"]
    reference = BertWordPieceTokenizer(os.path.join(directory, "vocab.txt"))
    reference._tokenizer.save(str(tmp_path / "tokenizer.json"))
    write_json(str(tmp_path / "config.json"), {"model_type": "bert"})
    with open(tmp_path / "tokenizer.json", encoding="utf-8") as f:
        tokenizer_json = json.load(f)
    for field, value, message in (
        ("normalizer", {"type": "NFKC"}, "normalizer.type='NFKC'"),
        ("pre_tokenizer", {"type": "Whitespace"}, "pre_tokenizer.type='Whitespace'"),
        ("normalizer", {**tokenizer_json["normalizer"], "clean_text": False}, "clean_text"),
    ):
        write_json(str(tmp_path / "tokenizer.json"), {**tokenizer_json, field: value})
        with pytest.raises(ValueError, match=message):
            from_preset(str(tmp_path))
    # A keras-hub preset that maps special tokens typed in the text.
    keras_hub = pytest.importorskip("keras_hub")
    keras_hub.models.BertTokenizer(
        vocabulary=checkpoints["bert_uncased"][1], special_tokens_in_strings=True
    ).save_to_preset(str(tmp_path / "keras_hub"))
    with pytest.raises(ValueError, match="special_tokens_in_strings"):
        from_preset(str(tmp_path / "keras_hub"))


def test_from_preset_checks_the_class_and_the_preset(checkpoints, tmp_path, monkeypatch):
    bert, _ = checkpoints["bert_uncased"]
    assert type(WordPieceTokenizer.from_preset(bert)) is WordPieceTokenizer
    assert type(Tokenizer.from_preset(checkpoints["gpt2"][0])) is BytePairTokenizer
    with pytest.raises(ValueError, match="loads as a WordPieceTokenizer"):
        BytePairTokenizer.from_preset(bert)
    with pytest.raises(ValueError, match="config.json"):
        from_preset(str(tmp_path))  # an empty directory
    with pytest.raises(ValueError, match="not a directory"):
        from_preset(str(tmp_path / "missing" / "dir"))
    # Names and hf:// ids are downloads, never tried here: keras-hub checks the name
    # against its preset list, and a missing huggingface_hub is a clear error.
    with pytest.raises(ValueError, match="keras-hub preset name"):
        from_preset("no_such_preset_en")
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)
    with pytest.raises(ValueError, match="pip install huggingface_hub"):
        from_preset("hf://org/name")


@pytest.mark.parametrize("end", PLANES)
def test_unicode_tables_match_hugging_face(end):
    """The BERT tables of `_unicode_tables`, read again from the installed `tokenizers`."""
    from tokenizers import normalizers, pre_tokenizers

    def ranges(code_points, table=None):
        if table is not None:  # the table's part below `end`
            return ranges(c for a, b in table for c in range(a, min(b, end - 1) + 1))
        out = []
        for c in sorted(code_points):
            if out and out[-1][1] == c - 1:
                out[-1] = (out[-1][0], c)
            else:
                out.append((c, c))
        return tuple(out)

    code_points = code_points_below(end)

    def changed(**options):
        defaults = dict(
            clean_text=False, handle_chinese_chars=False, strip_accents=False, lowercase=False
        )
        normalizer = normalizers.BertNormalizer(**{**defaults, **options})
        return {c: normalizer.normalize_str(chr(c)) for c in code_points}

    clean = changed(clean_text=True)
    tables = _unicode_tables
    assert ranges(c for c in code_points if clean[c] == "") == ranges((), tables.BERT_REMOVED)
    assert ranges(c for c in code_points if clean[c] == " " and c != 0x20) == ranges(
        (), tables.BERT_CLEAN_WHITESPACE
    )
    cjk = changed(handle_chinese_chars=True)
    assert ranges(c for c in code_points if cjk[c] != chr(c)) == ranges((), tables.BERT_CJK)
    strip = changed(strip_accents=True)
    assert ranges(c for c in code_points if strip[c] == "") == ranges(
        (), tables.BERT_NONSPACING_MARKS
    )
    pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    split = {c: [w for w, _ in pre_tokenizer.pre_tokenize_str(f"a{chr(c)}a")] for c in code_points}
    assert ranges(c for c in code_points if split[c] == ["a", "a"]) == ranges(
        (), tables.BERT_WHITESPACE
    )
    assert ranges(c for c in code_points if split[c] == ["a", chr(c), "a"]) == ranges(
        (), tables.BERT_PUNCTUATION
    )
    # The case mappings and decompositions Zoo corrects in TensorFlow's tables.
    lower = changed(lowercase=True)
    for a, b in tables.BERT_LOWERCASE_BEYOND_ICU:
        if a < end:
            assert lower[a] == chr(b)
    nfd = normalizers.NFD()
    for a, b in tables.BERT_NFD_KEPT:
        for c in range(a, min(b, end - 1) + 1):
            assert nfd.normalize_str(chr(c)) == chr(c)


def test_marian_source_eos_is_in_a_saved_model(checkpoints, tmp_path):
    # The </s> is appended in the traced graph, so an exported tokenizer (as in
    # zoo/export/translator.py, which embeds the source tokenizer) carries it.
    directory, (vocab, _) = checkpoints["marian"]
    tokenizer = from_preset(directory, side="source")
    tf.saved_model.save(RaggedTokenizerModule(tokenizer), str(tmp_path / "source"))
    module = tf.saved_model.load(str(tmp_path / "source"))
    texts = MIXED[:4]
    out = module.tokenize_ragged(tf.constant(texts))
    served = tf.RaggedTensor.from_row_splits(out["values"], out["row_splits"]).to_list()
    assert served == ids_of(tokenizer, texts)
    assert all(row[-1] == vocab["</s>"] for row in served)


def test_marian_source_rows_keep_their_eos_when_cut(checkpoints):
    # zoo.data's translation rows: a short source ends with </s> then padding; a longer
    # one is cut before its </s>, which stays last (Hugging Face's truncation).
    from zoo.data import translation_arrays

    directory, (vocab, _) = checkpoints["marian"]
    source = from_preset(directory, side="source")
    target = from_preset(directory, side="target", sequence_length=None)
    target = SentencePieceTokenizer.from_config(
        {**target.get_config(), "special_tokens_map": {**target.special_tokens_map, "bos": "<pad>"}}
    )
    short, long = "Я изучаю.", "Я изучаю машинное обучение и читаю книгу о нейронных сетях."
    ids = ids_of(source, [short, long])
    length = len(ids[0]) + 2
    assert len(ids[1]) > length
    features, _ = translation_arrays([(short, "I"), (long, "I")], source, target, length, 4)
    rows = features["encoder_token_ids"].tolist()
    assert rows[0] == ids[0] + [vocab["<pad>"]] * 2
    assert rows[1] == ids[1][: length - 1] + [vocab["</s>"]]
    assert features["encoder_padding_mask"].tolist()[1] == [True] * length
