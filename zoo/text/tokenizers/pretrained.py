"""Pretrained tokenizers as zoo tokenizers: keras-hub presets and Hugging Face checkpoints.

`from_preset(preset)` reads the tokenizer files of a checkpoint and builds the zoo
tokenizer that gives the same ids, so that every pretrained model exports a raw-text
SavedModel (keras-hub cannot export its tokenizers; keras-hub issues #2015, #1629):

- a directory written by a zoo tokenizer's `save(path)`: that tokenizer;
- a keras-hub preset directory (`save_to_preset`: `tokenizer.json` + `assets/tokenizer/`),
  a keras-hub preset name ("bert_base_en_uncased") or "kaggle://..." handle:
  `BertTokenizer` -> `WordPieceTokenizer(rules="keras_hub")`; `GPT2Tokenizer` and
  `RobertaTokenizer` -> `BytePairTokenizer(rules="gpt2")`;
- a Hugging Face checkpoint directory (`config.json` with `model_type`, or only the
  tokenizer files with `tokenizer_config.json`) or "hf://org/name":
  "bert" (`vocab.txt` or `tokenizer.json`) -> `WordPieceTokenizer(rules="bert")`;
  "gpt2" / "roberta" (`vocab.json` + `merges.txt`, or `tokenizer.json`) ->
  `BytePairTokenizer(rules="gpt2")`; "marian" (`source.spm` / `target.spm` + `vocab.json`)
  -> `SentencePieceTokenizer` with the `vocab.json` ids (`side="source"` or "target");
  the source side has `add_eos=True`: like `MarianTokenizer`, it ends every text with
  `</s>`.

Special tokens keep their ids and get their roles (`pad_token_id`, `bos_token_id`, ...)
through `special_tokens_map`. Names and "hf://" ids are downloaded (by keras-hub,
`huggingface_hub`) only when passed here; nothing else touches the network. A field Zoo
cannot reproduce exactly (an unknown `model_type`, a normalizer or pre-tokenizer other
than the model's usual one, a keras-hub option such as `special_tokens_in_strings`) is a
`ValueError` naming the field, never a tokenizer that silently gives other ids.
"""

import json
import os

from zoo.text.tokenizers.base import (
    SPECIAL_TOKEN_ROLES,
    Tokenizer,
    _check_sequence_length,
    _is_saved_tokenizer,
)
from zoo.text.tokenizers.byte_pair import BytePairTokenizer
from zoo.text.tokenizers.sentencepiece import SentencePieceTokenizer
from zoo.text.tokenizers.wordpiece import WordPieceTokenizer

__all__ = ["SUPPORTED_MODEL_TYPES", "from_keras_hub_tokenizer", "from_preset"]

SUPPORTED_MODEL_TYPES = ("bert", "roberta", "gpt2", "marian")
SIDES = ("source", "target")

# Hugging Face `tokenizer_class` -> model_type, for tokenizer-only directories.
_TOKENIZER_CLASS_MODEL_TYPES = {
    "BertTokenizer": "bert",
    "BertTokenizerFast": "bert",
    "RobertaTokenizer": "roberta",
    "RobertaTokenizerFast": "roberta",
    "GPT2Tokenizer": "gpt2",
    "GPT2TokenizerFast": "gpt2",
    "MarianTokenizer": "marian",
}
# Default special tokens of the Hugging Face tokenizer classes: role -> token.
_HF_SPECIAL_TOKENS = {
    "bert": {"pad": "[PAD]", "unk": "[UNK]", "cls": "[CLS]", "sep": "[SEP]", "mask": "[MASK]"},
    "roberta": {
        "pad": "<pad>",
        "unk": "<unk>",
        "cls": "<s>",
        "sep": "</s>",
        "mask": "<mask>",
        "bos": "<s>",
        "eos": "</s>",
    },
    "gpt2": {"unk": "<|endoftext|>", "bos": "<|endoftext|>", "eos": "<|endoftext|>"},
    "marian": {"pad": "<pad>", "unk": "<unk>", "eos": "</s>"},
}
# Fields of tokenizer_config.json / special_tokens_map.json -> role.
_HF_ROLE_FIELDS = {f"{role}_token": role for role in SPECIAL_TOKEN_ROLES}
# keras-hub tokenizer classes Zoo reproduces -> (zoo kind, role -> token).
_KERAS_HUB_CLASSES = {
    "BertTokenizer": ("wordpiece", _HF_SPECIAL_TOKENS["bert"]),
    "GPT2Tokenizer": ("byte_pair", {"bos": "<|endoftext|>", "eos": "<|endoftext|>"}),
    "RobertaTokenizer": ("byte_pair", dict(_HF_SPECIAL_TOKENS["roberta"])),
}
# Files "hf://" downloads: the tokenizer files of the supported model types.
_HF_TOKENIZER_FILES = [
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.txt",
    "vocab.json",
    "target_vocab.json",
    "merges.txt",
    "source.spm",
    "target.spm",
    "assets/tokenizer/*",  # a keras-hub preset on the Hugging Face Hub
]


# ------------------------------------------------------------------------------ entry point
def from_preset(preset, side=None, sequence_length=None):
    """A pretrained tokenizer as a zoo tokenizer (ids identical to the original's).

    Args:
        preset: a directory (a zoo tokenizer from `save`, a keras-hub preset from
            `save_to_preset`, or a Hugging Face checkpoint of model_type "bert",
            "roberta", "gpt2" or "marian"), "hf://org/name" (downloaded with
            `huggingface_hub`), or a keras-hub preset name / "kaggle://" handle
            (downloaded by keras-hub).
        side: "source" or "target": which SentencePiece model and vocabulary of a Marian
            (translation) checkpoint; None for every other preset.
        sequence_length: None (ragged ids) or an int (dense ids padded with
            `pad_token_id`); for a saved zoo tokenizer, None keeps its own.

    Returns:
        A `WordPieceTokenizer`, `BytePairTokenizer` or `SentencePieceTokenizer` (or the
        saved zoo tokenizer's class).

    Raises:
        ValueError: the preset is not found, needs a download that fails or a package
            that is missing, or has a field Zoo cannot reproduce (the message names it).

    Example:

    >>> tokenizer = from_preset("path/to/bert-base-uncased")  # doctest: +SKIP
    >>> tokenizer("Hello, world!")  # doctest: +SKIP
    """
    if isinstance(preset, os.PathLike):
        preset = os.fspath(preset)
    if not isinstance(preset, str) or not preset:
        raise ValueError(
            f"from_preset() received preset={preset!r}. Expected a directory, "
            "'hf://org/name' or a keras-hub preset name such as 'bert_base_en_uncased'."
        )
    if side is not None and side not in SIDES:
        raise ValueError(
            f"from_preset() received side={side!r}. Expected None, or 'source' / 'target' "
            "for a translation (Marian) checkpoint."
        )
    _check_sequence_length(Tokenizer, sequence_length)
    if preset.startswith("hf://"):
        return _from_directory(_download_hugging_face(preset), preset, side, sequence_length)
    if os.path.isdir(preset):
        return _from_directory(preset, preset, side, sequence_length)
    if preset.startswith("kaggle://") or _looks_like_name(preset):
        _no_side(preset, side, "keras-hub preset")
        return from_keras_hub_tokenizer(
            _download_keras_hub(preset), sequence_length=sequence_length
        )
    raise ValueError(
        f"from_preset() received preset={preset!r}, which is not a directory. Expected a "
        "directory (a zoo tokenizer with config.json, a keras-hub preset with "
        "tokenizer.json, or a Hugging Face checkpoint with config.json), 'hf://org/name' "
        "or a keras-hub preset name."
    )


def _looks_like_name(preset):
    return os.sep not in preset and "/" not in preset and not preset.startswith(".")


def _no_side(preset, side, what):
    if side is not None:
        raise ValueError(
            f"from_preset() received side={side!r} for {preset!r}, a {what}. side selects "
            "the source or target SentencePiece model of a translation (Marian) checkpoint "
            "only; leave it out."
        )


def _from_directory(path, preset, side, sequence_length):
    if _is_saved_tokenizer(path):
        _no_side(preset, side, "saved zoo tokenizer")
        tokenizer = Tokenizer.load(path)
        if sequence_length is not None:
            tokenizer.sequence_length = int(sequence_length)
        return tokenizer
    keras_hub_config = _read_json(os.path.join(path, "tokenizer.json"))
    if _is_keras_hub_config(keras_hub_config):
        _no_side(preset, side, "keras-hub preset")
        return _from_keras_hub_directory(path, keras_hub_config, sequence_length)
    model_type = _hugging_face_model_type(path, preset)
    if model_type == "marian":
        if side is None:
            raise ValueError(
                f"from_preset() received side=None for {preset!r}, a Marian (translation) "
                "checkpoint with a source and a target SentencePiece model. Pass "
                "side='source' (the encoder's text) or side='target' (the decoder's)."
            )
    else:
        _no_side(preset, side, f"{model_type!r} checkpoint")
    loader = {
        "bert": _hugging_face_bert,
        "roberta": _hugging_face_byte_pair,
        "gpt2": _hugging_face_byte_pair,
        "marian": _hugging_face_marian,
    }[model_type]
    return loader(path, model_type, side=side, sequence_length=sequence_length)


# -------------------------------------------------------------------------------- downloads
def _download_hugging_face(preset):
    repo_id = preset[len("hf://") :].strip("/")
    if repo_id.count("/") > 1 or not repo_id:
        raise ValueError(
            f"from_preset() received preset={preset!r}. Expected 'hf://org/name' (a Hugging "
            "Face model id), e.g. 'hf://google-bert/bert-base-uncased'."
        )
    try:
        import huggingface_hub
    except ImportError as error:
        raise ValueError(
            f"from_preset() received preset={preset!r}, a Hugging Face model id, but the "
            "package huggingface_hub is not installed. Run `pip install huggingface_hub`, or "
            "download the checkpoint yourself and pass its local directory."
        ) from error
    try:
        return huggingface_hub.snapshot_download(
            repo_id=repo_id, allow_patterns=_HF_TOKENIZER_FILES
        )
    except Exception as error:  # network, authentication, unknown repository
        raise ValueError(
            f"from_preset() could not download the tokenizer files of {preset!r} "
            f"({type(error).__name__}: {error}). Check the model id and the network (Zoo "
            "downloads nothing else), or pass a local checkpoint directory."
        ) from error


def _download_keras_hub(preset):
    try:
        import keras_hub
    except ImportError as error:
        raise ValueError(
            f"from_preset() received preset={preset!r}, which is not a directory; as a "
            "keras-hub preset name it needs keras-hub (`pip install keras-hub`). Or pass a "
            "local directory."
        ) from error
    known = keras_hub.tokenizers.Tokenizer.presets
    if not preset.startswith("kaggle://") and preset not in known:
        raise ValueError(
            f"from_preset() received preset={preset!r}, which is neither a directory nor a "
            f"keras-hub preset name (e.g. {sorted(known)[:3]!r}). Pass a directory, "
            "'hf://org/name', or one of keras_hub.tokenizers.Tokenizer.presets."
        )
    try:
        return keras_hub.tokenizers.Tokenizer.from_preset(preset)
    except Exception as error:  # network, authentication, missing files
        raise ValueError(
            f"from_preset() could not load the keras-hub preset {preset!r} "
            f"({type(error).__name__}: {error}). keras-hub downloads presets from Kaggle; "
            "without network, pass a preset directory written by save_to_preset."
        ) from error


# ------------------------------------------------------------------------------- keras-hub
def _is_keras_hub_config(config):
    return isinstance(config, dict) and "class_name" in config and "config" in config


def _from_keras_hub_directory(path, config, sequence_length):
    class_name = config["class_name"]
    _keras_hub_kind(class_name, path)
    assets = os.path.join(path, "assets", "tokenizer")
    options = dict(config["config"])
    if os.path.isfile(os.path.join(assets, "vocabulary.txt")):
        with open(os.path.join(assets, "vocabulary.txt"), encoding="utf-8") as f:
            # keras-hub reads it with `line.rstrip()`.
            options["vocabulary"] = [line.rstrip() for line in f]
    else:
        options["vocabulary"] = _read_json(os.path.join(assets, "vocabulary.json"), path)
        options["merges"] = _read_merges(os.path.join(assets, "merges.txt"), path)
    return _from_keras_hub_config(class_name, options, sequence_length, path)


def from_keras_hub_tokenizer(tokenizer, sequence_length=None):
    """The zoo tokenizer equivalent to a keras-hub `BertTokenizer`, `GPT2Tokenizer` or
    `RobertaTokenizer` object (e.g. from `keras_hub.models.BertTokenizer.from_preset`).

    Example:

    >>> import keras_hub  # doctest: +SKIP
    >>> tokenizer = from_keras_hub_tokenizer(  # doctest: +SKIP
    ...     keras_hub.models.BertTokenizer(vocabulary=["[UNK]", "[PAD]", "[CLS]", "[SEP]",
    ...                                               "[MASK]", "hi"]))
    """
    class_name = type(tokenizer).__name__
    kind = _keras_hub_kind(class_name, "the tokenizer passed")
    options = dict(tokenizer.get_config())
    if kind == "wordpiece":
        options["vocabulary"] = list(tokenizer.get_vocabulary())
    else:
        options["vocabulary"] = dict(tokenizer.vocabulary)
        options["merges"] = [m for m in tokenizer.merges if not m.startswith("#version")]
    return _from_keras_hub_config(class_name, options, sequence_length, class_name)


def _keras_hub_kind(class_name, where):
    if class_name not in _KERAS_HUB_CLASSES:
        raise ValueError(
            f"from_preset() found the keras-hub tokenizer class_name={class_name!r} in "
            f"{where}. Zoo reproduces {sorted(_KERAS_HUB_CLASSES)}; for other models load "
            "the Hugging Face checkpoint, or train a zoo tokenizer."
        )
    return _KERAS_HUB_CLASSES[class_name][0]


def _from_keras_hub_config(class_name, options, sequence_length, where):
    kind, roles = _KERAS_HUB_CLASSES[class_name]
    if options.get("special_tokens_in_strings"):
        raise ValueError(
            f"from_preset() found special_tokens_in_strings=True in the keras-hub "
            f"{class_name} of {where}: it maps special tokens typed in the text to their "
            "ids. Zoo tokenizers never produce special tokens from text; save the preset "
            "with special_tokens_in_strings=False."
        )
    if kind == "wordpiece":
        for field, expected in (("split", True), ("suffix_indicator", "##")):
            if options.get(field, expected) != expected:
                raise ValueError(
                    f"from_preset() found {field}={options[field]!r} in the keras-hub "
                    f"{class_name} of {where}; Zoo reproduces {field}={expected!r} only."
                )
        vocabulary = list(options["vocabulary"])
        unknown = options.get("oov_token") or "[UNK]"
        roles = {**roles, "unk": unknown}
        roles = {role: token for role, token in roles.items() if token in set(vocabulary)}
        return WordPieceTokenizer(
            vocabulary,
            lowercase=bool(options.get("lowercase", False)),
            normalization_form=None,
            reserved_tokens=_unique(roles.values()),
            sequence_length=sequence_length,
            rules="keras_hub",
            strip_accents=bool(options.get("strip_accents", False)),
            split_on_cjk=bool(options.get("split_on_cjk", True)),
            special_tokens_map=roles,
        )
    vocabulary = _vocabulary_list(options["vocabulary"], "vocabulary.json", where)
    present = set(vocabulary)
    roles = {role: token for role, token in roles.items() if token in present}
    unsplittable = list(options.get("unsplittable_tokens") or [])
    reserved = _unique([*roles.values(), *(t for t in unsplittable if t in present)])
    return BytePairTokenizer(
        vocabulary,
        options["merges"],
        reserved_tokens=reserved,
        sequence_length=sequence_length,
        rules="gpt2",
        add_prefix_space=bool(options.get("add_prefix_space", False)),
        special_tokens_map=roles,
    )


# ---------------------------------------------------------------------------- Hugging Face
def _hugging_face_model_type(path, preset):
    config = _read_json(os.path.join(path, "config.json"))
    if _is_keras_hub_config(config):
        raise ValueError(
            f"from_preset() received preset={preset!r}, a keras-hub preset with a "
            f"{config['class_name']} (config.json) but no tokenizer.json. Save the tokenizer "
            "into the same directory with tokenizer.save_to_preset(directory)."
        )
    if config is not None and "model_type" in config:
        model_type = config["model_type"]
        field = f"model_type in {os.path.join(path, 'config.json')}"
    else:
        tokenizer_config = _read_json(os.path.join(path, "tokenizer_config.json"))
        if tokenizer_config is None or "tokenizer_class" not in tokenizer_config:
            raise ValueError(
                f"from_preset() received preset={preset!r}, a directory without a zoo "
                "tokenizer (config.json with class_name), a keras-hub preset (tokenizer.json "
                "with class_name) or a Hugging Face checkpoint (config.json with model_type, "
                "or tokenizer_config.json with tokenizer_class). Pass one of those."
            )
        tokenizer_class = tokenizer_config["tokenizer_class"]
        model_type = _TOKENIZER_CLASS_MODEL_TYPES.get(tokenizer_class)
        if model_type is None:
            raise ValueError(
                f"from_preset() found tokenizer_class={tokenizer_class!r} in "
                f"{os.path.join(path, 'tokenizer_config.json')}. Zoo loads the tokenizers of "
                f"model_type {SUPPORTED_MODEL_TYPES} ({sorted(_TOKENIZER_CLASS_MODEL_TYPES)})."
            )
        return model_type
    if model_type not in SUPPORTED_MODEL_TYPES:
        raise ValueError(
            f"from_preset() found model_type={model_type!r} ({field}). Zoo loads the "
            f"tokenizers of model_type {SUPPORTED_MODEL_TYPES}; for another model, train a zoo "
            "tokenizer or convert its vocabulary yourself."
        )
    return model_type


def _token_content(value):
    """A special token of tokenizer_config.json: a string or an AddedToken dict."""
    if isinstance(value, dict):
        return value.get("content")
    return value if isinstance(value, str) else None


def _hugging_face_roles(path, model_type):
    """role -> token from tokenizer_config.json and special_tokens_map.json (or defaults)."""
    roles = dict(_HF_SPECIAL_TOKENS[model_type])
    for name in ("tokenizer_config.json", "special_tokens_map.json"):
        config = _read_json(os.path.join(path, name)) or {}
        for field, role in _HF_ROLE_FIELDS.items():
            if field in config:
                token = _token_content(config[field])
                if token is None:
                    roles.pop(role, None)
                else:
                    roles[role] = token
    return roles


def _added_special_tokens(tokenizer_json):
    """id -> content of the special added tokens of a tokenizer.json."""
    added = (tokenizer_json or {}).get("added_tokens") or []
    return {t["id"]: t["content"] for t in added if t.get("special", False)}


def _hugging_face_bert(path, model_type, side=None, sequence_length=None):
    tokenizer_json = _read_json(os.path.join(path, "tokenizer.json"))
    tokenizer_config = _read_json(os.path.join(path, "tokenizer_config.json")) or {}
    roles = _hugging_face_roles(path, model_type)
    where = os.path.join(path, "tokenizer.json")
    if tokenizer_json is not None:
        model = tokenizer_json.get("model") or {}
        _expect(model, "type", "WordPiece", where, "model.")
        _expect(model, "continuing_subword_prefix", "##", where, "model.")
        vocabulary = _vocabulary_list(
            {**model.get("vocab", {}), **_invert(_added_special_tokens(tokenizer_json))},
            "model.vocab",
            where,
        )
        max_word_length = int(model.get("max_input_chars_per_word", 100))
        roles["unk"] = model.get("unk_token", roles.get("unk"))
        normalizer = tokenizer_json.get("normalizer") or {}
        _expect(normalizer, "type", "BertNormalizer", where, "normalizer.")
        _expect(normalizer, "clean_text", True, where, "normalizer.")
        lowercase = bool(normalizer.get("lowercase", True))
        strip_accents = normalizer.get("strip_accents")
        split_on_cjk = bool(normalizer.get("handle_chinese_chars", True))
        pre_tokenizer = tokenizer_json.get("pre_tokenizer") or {}
        _expect(pre_tokenizer, "type", "BertPreTokenizer", where, "pre_tokenizer.")
    else:
        vocabulary_path = os.path.join(path, "vocab.txt")
        if not os.path.isfile(vocabulary_path):
            raise ValueError(
                f"from_preset() found a BERT checkpoint in {path!r} without vocab.txt or "
                "tokenizer.json. Add the tokenizer files of the checkpoint."
            )
        with open(vocabulary_path, encoding="utf-8") as f:
            # transformers' load_vocab: one token a line, only the newline stripped.
            vocabulary = [line.rstrip("\n") for line in f]
        while vocabulary and vocabulary[-1] == "":
            vocabulary.pop()
        max_word_length = 100
        lowercase = bool(tokenizer_config.get("do_lower_case", True))
        strip_accents = tokenizer_config.get("strip_accents")
        split_on_cjk = bool(tokenizer_config.get("tokenize_chinese_chars", True))
    present = set(vocabulary)
    roles = {role: token for role, token in roles.items() if token in present}
    added = [t for t in _added_special_tokens(tokenizer_json).values() if t in present]
    return WordPieceTokenizer(
        vocabulary,
        lowercase=lowercase,
        normalization_form=None,
        reserved_tokens=_unique([*roles.values(), *added]),
        sequence_length=sequence_length,
        rules="bert",
        strip_accents=None if strip_accents is None else bool(strip_accents),
        split_on_cjk=split_on_cjk,
        max_word_length=max_word_length,
        special_tokens_map=roles,
    )


def _hugging_face_byte_pair(path, model_type, side=None, sequence_length=None):
    tokenizer_json = _read_json(os.path.join(path, "tokenizer.json"))
    tokenizer_config = _read_json(os.path.join(path, "tokenizer_config.json")) or {}
    roles = _hugging_face_roles(path, model_type)
    add_prefix_space = bool(tokenizer_config.get("add_prefix_space", False))
    where = os.path.join(path, "tokenizer.json")
    if tokenizer_json is not None:
        model = tokenizer_json.get("model") or {}
        _expect(model, "type", "BPE", where, "model.")
        for field, expected in (
            ("dropout", None),
            ("continuing_subword_prefix", None),
            ("end_of_word_suffix", None),
            ("byte_fallback", False),
            ("ignore_merges", False),
        ):
            value = model.get(field, expected)
            if value != expected and not (expected is None and value == ""):
                raise ValueError(
                    f"from_preset() found model.{field}={value!r} in {where}. Zoo's byte-level "
                    f"BPE reproduces GPT-2's BPE ({field}={expected!r}) only."
                )
        if tokenizer_json.get("normalizer") is not None:
            raise ValueError(
                f"from_preset() found normalizer={tokenizer_json['normalizer']!r} in {where}. "
                "GPT-2 / RoBERTa tokenizers have none (null); Zoo reproduces that only."
            )
        pre_tokenizer = tokenizer_json.get("pre_tokenizer") or {}
        _expect(pre_tokenizer, "type", "ByteLevel", where, "pre_tokenizer.")
        _expect(pre_tokenizer, "use_regex", True, where, "pre_tokenizer.")
        add_prefix_space = bool(pre_tokenizer.get("add_prefix_space", False))
        vocabulary = {**model.get("vocab", {}), **_invert(_added_special_tokens(tokenizer_json))}
        merges = [m if isinstance(m, str) else " ".join(m) for m in model.get("merges", [])]
    else:
        vocabulary = _read_json(os.path.join(path, "vocab.json"), path)
        merges = _read_merges(os.path.join(path, "merges.txt"), path)
    vocabulary = _vocabulary_list(vocabulary, "vocab.json", path)
    present = set(vocabulary)
    roles = {role: token for role, token in roles.items() if token in present}
    added = [t for t in _added_special_tokens(tokenizer_json).values() if t in present]
    extra = [_token_content(t) for t in tokenizer_config.get("additional_special_tokens") or []]
    return BytePairTokenizer(
        vocabulary,
        merges,
        reserved_tokens=_unique([*roles.values(), *added, *(t for t in extra if t in present)]),
        sequence_length=sequence_length,
        rules="gpt2",
        add_prefix_space=add_prefix_space,
        special_tokens_map=roles,
    )


def _hugging_face_marian(path, model_type, side=None, sequence_length=None):
    tokenizer_config = _read_json(os.path.join(path, "tokenizer_config.json")) or {}
    model_path = os.path.join(path, f"{side}.spm")
    if not os.path.isfile(model_path):
        raise ValueError(
            f"from_preset() found a Marian checkpoint in {path!r} without {side}.spm. Add "
            "the SentencePiece models (source.spm, target.spm) of the checkpoint."
        )
    separate = bool(tokenizer_config.get("separate_vocabs", False))
    vocabulary_file = "target_vocab.json" if separate and side == "target" else "vocab.json"
    vocabulary = _vocabulary_list(
        _read_json(os.path.join(path, vocabulary_file), path), vocabulary_file, path
    )
    codes = [t for t in vocabulary if t.startswith(">>") and t.endswith("<<")]
    if codes and side == "source" and not separate:
        raise ValueError(
            f"from_preset() found language-code tokens {codes[:3]!r} in "
            f"{os.path.join(path, vocabulary_file)} (a multilingual Marian model). "
            "MarianTokenizer cuts a leading '>>xx<<' code off the source text; Zoo's "
            "SentencePieceTokenizer does not, so it would give other ids. Use a "
            "single-target checkpoint."
        )
    roles = _hugging_face_roles(path, model_type)
    present = set(vocabulary)
    roles = {role: token for role, token in roles.items() if token in present}
    extra = [_token_content(t) for t in tokenizer_config.get("additional_special_tokens") or []]
    with open(model_path, "rb") as f:
        proto = f.read()
    return SentencePieceTokenizer(
        proto,
        vocabulary=vocabulary,
        reserved_tokens=_unique([*roles.values(), *(t for t in extra if t in present)]),
        sequence_length=sequence_length,
        special_tokens_map=roles,
        # MarianTokenizer ends every source text with </s> (its eos); the target ids
        # get theirs from the data pipeline's labels.
        add_eos=side == "source" and "eos" in roles,
    )


# --------------------------------------------------------------------------------- helpers
def _read_json(file_path, required_by=None):
    """The parsed JSON file, None when it is missing (a ValueError if `required_by`)."""
    if not os.path.isfile(file_path):
        if required_by is not None:
            raise ValueError(
                f"from_preset() found no {os.path.basename(file_path)} in {required_by!r}, "
                "which this tokenizer needs. Add the tokenizer files of the checkpoint."
            )
        return None
    try:
        with open(file_path, encoding="utf-8") as f:
            return json.load(f)
    except ValueError as error:
        raise ValueError(
            f"from_preset() could not parse {file_path} as JSON ({error}). Expected the "
            "checkpoint's own file."
        ) from error


def _read_merges(file_path, required_by):
    if not os.path.isfile(file_path):
        raise ValueError(
            f"from_preset() found no merges.txt in {required_by!r}, which byte-level BPE "
            "needs beside vocab.json. Add the tokenizer files of the checkpoint."
        )
    with open(file_path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    # GPT-2's merges.txt starts with "#version: 0.2"; a rule never starts with "#version".
    return [line for line in lines if line and not line.startswith("#version")]


def _invert(id_to_token):
    return {token: index for index, token in id_to_token.items()}


def _vocabulary_list(vocabulary, field, where):
    """A token -> id dict (vocab.json) as the token list, index = id."""
    if isinstance(vocabulary, list):
        return vocabulary
    if not isinstance(vocabulary, dict) or not vocabulary:
        raise ValueError(
            f"from_preset() found {field} of type {type(vocabulary).__name__} in {where}. "
            "Expected a non-empty JSON object from tokens to ids."
        )
    ids = sorted(vocabulary.values())
    if ids != list(range(len(ids))):
        raise ValueError(
            f"from_preset() found {field} in {where} whose {len(ids)} ids are not "
            f"0..{len(ids) - 1} (missing or repeated ids). Zoo tokenizers number their "
            "tokens 0..n-1."
        )
    return sorted(vocabulary, key=vocabulary.get)


def _expect(config, field, expected, where, prefix=""):
    value = config.get(field, expected)
    if value != expected:
        raise ValueError(
            f"from_preset() found {prefix}{field}={value!r} in {where}. Zoo reproduces "
            f"{prefix}{field}={expected!r} only for this model_type."
        )


def _unique(tokens):
    out = []
    for token in tokens:
        if token is not None and token not in out:
            out.append(token)
    return out
