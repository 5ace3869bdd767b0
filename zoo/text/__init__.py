"""Strings to ids and back, as TensorFlow ops that run in tf.data and inside SavedModels.

Preprocessing layers (`tf.string` in, `tf.string` out):
`TextNormalizer`, `StopWordFilter`, `Stemmer`, `Lemmatizer`, `SpellCorrector`, `Preprocessor`.

Tokenizers trained on a corpus (`tf.string` in, int32 ids out):
`CharacterTokenizer`, `WordTokenizer`, `WordPieceTokenizer`, `BytePairTokenizer`,
`SentencePieceTokenizer`; `load_tokenizer(path)` restores any of them.

Pretrained tokenizers: `load_tokenizer(preset)` (or `WordPieceTokenizer.from_preset(...)`
etc.) loads a keras-hub preset (directory or name) or a Hugging Face checkpoint (directory
or "hf://org/name") of BERT, RoBERTa, GPT-2 or Marian as a zoo tokenizer with the original
ids, so that it exports into a raw-text SavedModel (`zoo.text.tokenizers.pretrained`).
"""

from zoo.text.preprocessing import (
    WORD_PATTERN,
    Lemmatizer,
    Preprocessor,
    SpellCorrector,
    Stemmer,
    StopWordFilter,
    TextNormalizer,
)
from zoo.text.tokenizers import (
    SPECIAL_TOKEN_ROLES,
    SPECIAL_TOKENS,
    BytePairTokenizer,
    CharacterTokenizer,
    SentencePieceTokenizer,
    Tokenizer,
    WordPieceTokenizer,
    WordTokenizer,
    load_tokenizer,
)

__all__ = [
    "SPECIAL_TOKENS",
    "SPECIAL_TOKEN_ROLES",
    "WORD_PATTERN",
    "BytePairTokenizer",
    "CharacterTokenizer",
    "Lemmatizer",
    "Preprocessor",
    "SentencePieceTokenizer",
    "SpellCorrector",
    "Stemmer",
    "StopWordFilter",
    "TextNormalizer",
    "Tokenizer",
    "WordPieceTokenizer",
    "WordTokenizer",
    "load_tokenizer",
]
