"""Trainable tokenizers that run as TensorFlow ops (in tf.data and in SavedModels).

Five granularities share one interface (`Tokenizer`):

- `CharacterTokenizer`: characters with UTF-8 byte fallback; counted with
  `collections.Counter`; in-graph `unicode_decode` + a code point -> id hash table.
- `WordTokenizer`: words and punctuation; `collections.Counter`;
  `tensorflow_text.regex_split` + a word -> id hash table.
- `WordPieceTokenizer`: BERT WordPiece; HF `tokenizers` WordPieceTrainer;
  `tensorflow_text.FastWordpieceTokenizer`.
- `BytePairTokenizer`: byte-level BPE (GPT-2 style); HF `tokenizers` BpeTrainer;
  `tensorflow_text.SentencepieceTokenizer` over a BPE model built from the merges.
- `SentencePieceTokenizer`: SentencePiece BPE / unigram; `sentencepiece`;
  `tensorflow_text.SentencepieceTokenizer`.

Every trained vocabulary starts with the reserved tokens (`SPECIAL_TOKENS` by
default, ids 0..6). Reserved tokens are never produced from text: typing "[CLS]" in
the input gives the ids of its characters, not `cls_token_id`.

`tokenize` takes a `tf.string` scalar, batch or ragged batch and returns int32 ids:
ragged `(batch, None)`, or dense `(batch, sequence_length)` padded with
`pad_token_id` when a `sequence_length` is set. Invalid UTF-8 is replaced with
U+FFFD, never an error. `detokenize` maps ids back to text; an id outside the
vocabulary is an error unless `errors="replace"` (then it is dropped).

One module per family: `base` (the `Tokenizer` base layer, shared argument checks,
`load_tokenizer`), `character`, `word`, `wordpiece`, `byte_pair` and `sentencepiece`
(with the shared SentencePiece op that `BytePairTokenizer` runs on too); `pretrained`
(`from_preset`: keras-hub presets and Hugging Face checkpoints of BERT, RoBERTa, GPT-2
and Marian as zoo tokenizers with the original ids; `Tokenizer.from_preset` and
`load_tokenizer` dispatch to it through a loader this `__init__` registers in `base`).
"""

from zoo.text import _bytes  # noqa: F401  tests reach the byte helpers as tokenizers._bytes
from zoo.text.tokenizers.base import (
    _PRESET_LOADERS,
    _TOKENIZER_CLASSES,
    SPECIAL_TOKEN_ROLES,
    SPECIAL_TOKENS,
    Tokenizer,
    load_tokenizer,
)
from zoo.text.tokenizers.byte_pair import BYTE_LEVEL_SPLIT_PATTERN, BytePairTokenizer  # noqa: F401
from zoo.text.tokenizers.character import CharacterTokenizer
from zoo.text.tokenizers.sentencepiece import SentencePieceTokenizer
from zoo.text.tokenizers.word import WordTokenizer
from zoo.text.tokenizers.wordpiece import WordPieceTokenizer

__all__ = [
    "SPECIAL_TOKENS",
    "SPECIAL_TOKEN_ROLES",
    "SUPPORTED_MODEL_TYPES",
    "BytePairTokenizer",
    "CharacterTokenizer",
    "SentencePieceTokenizer",
    "Tokenizer",
    "WordPieceTokenizer",
    "WordTokenizer",
    "from_preset",
    "load_tokenizer",
]

# `Tokenizer.load` and `load_tokenizer` find a saved class by its name here.
_TOKENIZER_CLASSES.update(
    {
        cls.__name__: cls
        for cls in (
            CharacterTokenizer,
            WordTokenizer,
            WordPieceTokenizer,
            BytePairTokenizer,
            SentencePieceTokenizer,
        )
    }
)

# After the classes: `pretrained` builds them. `Tokenizer.from_preset` and
# `load_tokenizer` reach it through this registry, so `base` never imports `pretrained`.
from zoo.text.tokenizers.pretrained import SUPPORTED_MODEL_TYPES, from_preset  # noqa: E402

_PRESET_LOADERS["from_preset"] = from_preset
