"""Text preprocessing as Keras layers: strings in, strings out, pure TensorFlow at call time.

The lecture's classic preprocessing steps (normalization, lowercasing, removing digits and
punctuation, typo correction, lemmatization or stemming, stop-word removal) as layers that
run in `tf.data.Dataset.map`, inside a Keras model and inside an exported SavedModel that is
served by a process importing only `tensorflow` and `tensorflow_text`.

- `TextNormalizer`: NFKC, lowercase (Cyrillic included), digits, punctuation, symbols,
  whitespace; one flag per step.
- `StopWordFilter`: drops stop words (stopwordsiso lists plus your own words).
- `Stemmer`, `Lemmatizer`, `SpellCorrector`: run their Python library (PyStemmer, simplemma
  or pymorphy3, pyspellchecker) once per distinct word at `adapt()` time and keep the result
  as a word -> word `tf.lookup.StaticHashTable`.
- `Preprocessor`: chains the chosen steps for one language from one config.

Words and case. The three table layers split text into words (`WORD_PATTERN`: runs of
Unicode letters and combining marks; "don't" is "don", "'", "t") and everything else
(spaces, punctuation, digits, emoji), which is kept byte for byte. The table is keyed by
the Unicode-lowercased word and built from lowercased words, so lookups ignore case; the
word's case pattern carries over to its replacement ("Изучаю" -> "Изучать", "RUNNING" ->
"RUN", "running" -> "run"). Words not in the table pass through unchanged.

Bad text never raises: every layer first replaces invalid UTF-8 and NUL characters with
U+FFFD.

Modules: `base` (patterns, supported languages, string helpers, `_StringLayer`),
`normalize` (`TextNormalizer`), `stop_words` (`StopWordFilter`), `words` (`Stemmer`,
`Lemmatizer` and their base `_WordMapper`), `spelling` (`SpellCorrector`), `pipeline`
(`Preprocessor`).
"""

from zoo.text.preprocessing.base import (  # noqa: F401  (the language lists stay importable here)
    WORD_PATTERN,
    lemmatizer_languages,
    spelling_languages,
    stemmer_languages,
    stop_word_languages,
)
from zoo.text.preprocessing.normalize import TextNormalizer
from zoo.text.preprocessing.pipeline import Preprocessor
from zoo.text.preprocessing.spelling import SpellCorrector
from zoo.text.preprocessing.stop_words import StopWordFilter
from zoo.text.preprocessing.words import Lemmatizer, Stemmer

__all__ = [
    "WORD_PATTERN",
    "Lemmatizer",
    "Preprocessor",
    "SpellCorrector",
    "Stemmer",
    "StopWordFilter",
    "TextNormalizer",
]
