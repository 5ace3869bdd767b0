"""`SpellCorrector`: pyspellchecker corrections kept as a lookup table."""

import keras

from zoo._checks import check_int
from zoo.text.preprocessing.base import (
    _check_language,
    _progress,
    lemmatizer_languages,
    spelling_languages,
)
from zoo.text.preprocessing.words import _table_layer_doc, _WordMapper

# pyspellchecker's distance-2 search grows with the square of the word length.
_MAX_SPELL_WORD_LENGTH = 30


@keras.saving.register_keras_serializable(package="zoo")
class SpellCorrector(_WordMapper):
    __doc__ = (
        """Typo correction ("машинноее" -> "машинное", "speling" -> "spelling") as a table.

    `adapt(texts)` checks the distinct words of a corpus with pyspellchecker (Norvig's
    method: the most frequent dictionary word within `max_distance` edits) and keeps a
    `tf.lookup.StaticHashTable` of the corrections; calling the layer is pure TensorFlow.

    A word is left alone when it is known, when its letters are not all in the
    dictionary's alphabet (a Latin word in Russian text is not "corrected" into Cyrillic),
    when it is shorter than 2 or longer than 30 characters, or when nothing is within
    `max_distance`. Known
    means in pyspellchecker's frequency dictionary or, for languages simplemma has, in
    simplemma's lexicon of inflected forms: pyspellchecker's Russian dictionary has only
    about 20,000 forms (it knows "изучаю", "машинное", "обучение" but not "изучаем" or
    "обучения"), and would otherwise "correct" valid rare forms. Ties between candidates
    are broken by frequency, then alphabetically, so `adapt()` is deterministic.

    pyspellchecker is slow at distance 2 (tens of milliseconds to a second per unknown
    word), so it only ever sees distinct words, each once per layer object, and
    `max_words` caps how many (the most frequent first) one `adapt()` call checks.

    Text is split into words (`WORD_PATTERN`) and the pieces between them, which are kept
    as they are. Lookup ignores case and the word's case carries over to its correction
    ("Speling" -> "Spelling"); words not seen by `adapt()` pass through unchanged. The table
    is part of the config.

    Args:
        language: ISO 639-1 code with a pyspellchecker dictionary ("ru", "en", "de", ...).
        max_distance: 1 or 2, the largest edit distance of a correction.
        max_words: int or None. Check at most this many distinct words per `adapt()` call,
            the most frequent first; None checks all.
"""
        + _table_layer_doc("typo", "correction")
        + """    >>> corrector = SpellCorrector("en")
    >>> corrector.adapt(["a speling mistake"], verbose=False)
    >>> corrector(["A speling mistake."]).numpy()[0].decode()
    'A spelling mistake.'
    """
    )

    _CONFIG_ATTRIBUTES = ("language", "max_distance", "max_words")

    def __init__(self, language="ru", max_distance=2, max_words=None, vocabulary=None, **kwargs):
        _check_language(language, spelling_languages(), "SpellCorrector")
        if isinstance(max_distance, bool) or max_distance not in (1, 2):
            raise ValueError(
                f"SpellCorrector received max_distance={max_distance!r}; expected 1 or 2 "
                "(larger distances are too slow and too loose). Pass max_distance=2."
            )
        if max_words is not None:
            hint = "Pass e.g. max_words=50000, or None to check every distinct word."
            check_int(max_words, "max_words", "SpellCorrector", hint=hint)
        self.language = language
        self.max_distance = int(max_distance)
        self.max_words = None if max_words is None else int(max_words)
        super().__init__(vocabulary=vocabulary, **kwargs)

    def _select_words(self, words):
        return words if self.max_words is None else words[: self.max_words]

    def _map_words(self, words, verbose):
        from spellchecker import SpellChecker

        checker = SpellChecker(language=self.language, distance=self.max_distance)
        frequencies = checker.word_frequency
        alphabet = set(frequencies.letters)
        in_lexicon = _simplemma_lexicon(self.language)
        mapping = {}
        for word in _progress(words, len(words), "spell checking", verbose):
            if (
                len(word) < 2
                or len(word) > _MAX_SPELL_WORD_LENGTH
                or not set(word) <= alphabet
                or word in frequencies
                or in_lexicon(word)
            ):
                continue
            candidates = checker.candidates(word)
            if not candidates:
                continue
            best = min(candidates, key=lambda candidate: (-frequencies[candidate], candidate))
            if best != word:
                mapping[word] = best
        return mapping


def _simplemma_lexicon(language):
    """`word -> bool`: whether simplemma's dictionary for `language` has the word form."""
    if language not in lemmatizer_languages("simplemma"):
        return lambda word: False
    import simplemma

    return lambda word: simplemma.is_known(word, lang=language)
