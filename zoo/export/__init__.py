"""SavedModel export with text-in, text-out signatures.

- `export_translator` (`TranslatorModule`): a `zoo.models.Transformer`, signature
  `translate(text) -> translation, truncated`.
- `export_bert` (`BertModule`): a `zoo.models.BertPretrainer`, signatures
  `encode(text) -> pooled_output, sequence_output` and `fill_mask(text) -> text`.
- `export_classifier` (`ClassifierModule`): a `zoo.models.BertClassifier`, signature
  `classify(text) -> label, probabilities, windows`.
- `export_tagger` (`TaggerModule`): a `zoo.models.BertTokenClassifier`, signature
  `tag(text) -> tokens, tags, lengths`.
- `export_gpt` (`GPTModule`): a `zoo.models.GPT`, signature
  `generate(prompt, max_new_tokens) -> text, completion, truncated`.

An exported model holds its tokenizer (and optional preprocessing layer) next to the
Keras model in a `tf.Module`, with `tf.function` signatures on `tf.TensorSpec([None],
tf.string)`. The SavedModel loads and serves in a process that imports only
`tensorflow` and `tensorflow_text` (the tokenizer ops live there): no zoo, no Keras.

Decoding runs on fixed-shape chunks of `serving_batch_size` sentences (the batch is
padded with empty strings to a multiple of it), so the decoding graph has static shapes
whatever the request size, and invalid UTF-8 or empty strings are served, never an
error.

Long inputs are never cut silently. `translate` splits its input into sentences in the
graph (`zoo.text.sentences.split_sentences`), cuts a sentence longer than the model's
`source_length` into consecutive pieces of that many tokens, translates every piece and
joins the translations in order; only past `max_input_tokens` (default 4096) tokens per
input is the rest dropped, and the `truncated` output says so. `encode` and `classify`
read a long text in overlapping windows and pool them (see `BertModule`,
`ClassifierModule`); `tag` tags every token of it (`TaggerModule`). `generate` keeps the
end of a prompt longer than its window, and its `truncated` output says so.

Inputs with nothing to read. Invalid UTF-8 is first repaired to U+FFFD. A string is
*blank* when it holds nothing but whitespace, control / format characters and U+FFFD,
or when its tokens are all `[UNK]` (e.g. emoji-only text for a WordPiece vocabulary;
byte-fallback tokenizers such as SentencePiece, byte-level BPE and characters do read
emoji, so it is not blank there). Per element of the batch, a blank string gives:
`translate` -> `""`; `fill_mask` -> `""` (markers aside: `"[MASK]"` alone is blank);
`encode` -> `pooled_output` and `sequence_output` all zeros; `generate` -> the prompt
counts as empty, so the model samples from the start token alone (an unconditional
sample: `text` equals `completion`). Other strings of the same batch get exactly
what they get alone (greedy and beam decoding; random samplers draw their noise per
batch row, so there a prompt's sample depends on its row, blank rows or not).

Input shapes. The named signatures (`loaded.signatures["translate"]`, ...) take a
`[batch]` string tensor. TensorFlow passes a fed tensor of another rank through a
signature unchecked, so each signature checks it: `InvalidArgumentError: ...
translate() expected a [batch] tensor of strings (rank 1); received shape] [2 2]`
(`[]` for a scalar). The methods of the loaded object (`loaded.translate(x)`, ...)
take a string tensor of rank 0 or 1 (or a Python str / list of str): a scalar gives a
scalar answer (`pooled_output (hidden_dim,)`...), and a higher rank fails with
`... translate() expected a [batch] tensor of strings (rank 1) or a scalar string;
received shape] [2 2]`. A non-string dtype is refused by TensorFlow before any Zoo
code runs (signatures: "input #0 ... was expected to be a string tensor but is a
int32 tensor"; methods: a TypeError "Can not cast TensorSpec(... tf.int32 ...) to
TensorSpec(... tf.string ...)").

Generated ids come from the model's logits. A model whose vocabulary is larger than
the tokenizer's (padded to a multiple of the mesh's model axis) never yields the extra
ids here: their logits are masked before sampling, so `detokenize` (strict) only sees
tokenizer ids. A model smaller than its tokenizer is refused at export time.

Example:

    >>> # export_translator(model, tokenizer, "runs/translation/saved_model",
    >>> #                   source_length=32, max_length=32)
    >>> # import tensorflow as tf, tensorflow_text  # in the serving process
    >>> # translator = tf.saved_model.load("runs/translation/saved_model")
    >>> # translator.translate(tf.constant(["Я изучаю машинное обучение."]))
"""

from zoo.export.bert import (
    BertModule,
    ClassifierModule,
    TaggerModule,
    export_bert,
    export_classifier,
    export_tagger,
)
from zoo.export.gpt import GPTModule, export_gpt
from zoo.export.translator import TranslatorModule, export_translator

__all__ = [
    "BertModule",
    "ClassifierModule",
    "GPTModule",
    "TaggerModule",
    "TranslatorModule",
    "export_bert",
    "export_classifier",
    "export_gpt",
    "export_tagger",
    "export_translator",
]
