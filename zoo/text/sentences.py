"""Sentence splitting for Russian and English, as TensorFlow string ops.

`split_sentences(text)` cuts a `(batch,)` string tensor into a `(batch, sentences)`
`tf.RaggedTensor` with regular expressions only (`tf.strings.regex_replace`, RE2), so
it runs inside tf.data and inside an exported SavedModel (the `translate` signature of
`zoo.export` splits its input with it). A Python string gives a list of strings.

The rule. A sentence ends after `.`, `!`, `?` or an ellipsis (`...`, `…`), with any
closing quotes or brackets behind them (`»`, `”`, `"`, `)`), followed by whitespace and
then, behind any opening quote, bracket or dash (`«`, `“`, `„`, `(`, `—`, `–`), a capital
letter or a digit. A single `.` does not end a sentence after:
- one letter: initials and one-letter abbreviations ("А. С. Пушкин", "в 1990 г. Потом",
  "J. Smith");
- a known abbreviation: English `Mr Mrs Ms Dr Prof Sr Jr St Mt No Vol Fig vs` and
  Russian `гг им ул пр проф акад доц тов стр рис см напр св` (case as written);
- a dotted abbreviation such as "т.е.", "т.к." or "e.g.", "i.e.", "U.S.".

So "Mr. Smith left. He was tired." is two sentences and "Это т. е. один." one
(no capital after the dots). Each sentence is stripped of surrounding whitespace; a text
with no sentence end is one sentence, and an empty or blank text gives one empty string
(every input keeps at least one sentence, so a batch maps back row by row).

Example:

>>> split_sentences("Он не глупый. Он глухой.")
['Он не глупый.', 'Он глухой.']
>>> split_sentences("«Готово? Я жду». — «Нет».")
['«Готово?', 'Я жду».', '— «Нет».']
"""

import tensorflow as tf

__all__ = ["split_sentences"]

# A character the splitter reserves to mark boundaries (ASCII record separator); it is
# replaced by a space in the input first.
_MARK = "\x1e"
_END = "[.!?\u2026]+[\"'\u00bb\u201d\u2019)\\]]*"
_OPENERS = "[\"'\u00ab\u201c\u201e(\\[\u2014\u2013-]"
# Sentence end, whitespace, then openers (each maybe followed by spaces) and a capital
# or a digit: the whitespace becomes the mark.
_BOUNDARY = f"({_END})\\s+((?:{_OPENERS}\\s*)*[\\p{{Lu}}\\p{{Nd}}])"
_ABBREVIATIONS = (
    "Mr|Mrs|Ms|Dr|Prof|Sr|Jr|St|Mt|No|Vol|Fig|vs|гг|им|ул|пр|проф|акад|доц|тов|стр|рис|см|напр|св"
)
# A lone "." after one letter, a known abbreviation or a dotted one ("т.е", "e.g"),
# where the word starts the text or follows a non-letter: the mark goes back to a space.
_ABBREVIATION = f"(^|[^\\p{{L}}\\p{{N}}])((?:\\p{{L}}\\.)*\\p{{L}}|{_ABBREVIATIONS})\\.{_MARK}"
# Chains of abbreviations ("J. R. R. Tolkien") consume the non-letter before the next
# one, so the repair runs until each of up to this many in a row is undone.
_ABBREVIATION_PASSES = 4


def _split(text):
    text = tf.strings.regex_replace(text, _MARK, " ")
    text = tf.strings.regex_replace(text, _BOUNDARY, f"\\1{_MARK}\\2")
    for _ in range(_ABBREVIATION_PASSES):
        text = tf.strings.regex_replace(text, _ABBREVIATION, "\\1\\2. ")
    sentences = tf.strings.split(text, _MARK)  # (batch, sentences)
    return tf.strings.strip(sentences)


def split_sentences(text):
    """The sentences of each string (see the module doc for the rule).

    Args:
        text: a `(batch,)` string tensor, or a Python `str`.

    Returns:
        A `(batch, sentences)` string `tf.RaggedTensor` (every row has at least one
        sentence, `""` for a blank text); for a `str`, a list of `str`.
    """
    if isinstance(text, str):
        sentences = _split(tf.constant([text]))[0].numpy()
        return [sentence.decode("utf-8") for sentence in sentences]
    text = tf.convert_to_tensor(text)
    if text.dtype != tf.string:
        raise TypeError(f"split_sentences expects strings, received {text.dtype.name}.")
    if text.shape.rank is not None and text.shape.rank != 1:
        raise ValueError(
            f"split_sentences expects a (batch,) string tensor or a str, received shape "
            f"{text.shape}."
        )
    return _split(text)
