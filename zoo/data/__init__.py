"""Data for Zoo: the bundled Russian-English corpus, loaders and tf.data pipelines.

- `zoo.data.corpus`: the generated parallel corpus (pure Python, no TensorFlow):
  `generate_pairs`, `load_pairs`, `load_text`, `write_corpus`.
- `zoo.data.loaders`: `load_translation_pairs` / `load_text_dataset` from the bundled
  corpus, local TSV/text files or TFDS names. Local files are checked: bad rows (not UTF-8,
  wrong column count, empty field) beyond `max_bad_rows` (default 0) are a `ValueError`;
  skipped ones give a `BadRowsWarning` and a `FileReport` in `report=`.
- `zoo.data.pipelines`: tokenize, pad to static shapes, batch with `drop_remainder`:
  `translation_dataset`, `classification_dataset`; `translation_arrays`,
  `classification_arrays` (numpy).
- `zoo.data.language_model`: documents -> one token stream -> next-token windows:
  `token_stream`, `language_model_windows` (numpy), `language_model_dataset`.
- `zoo.data.pretraining`: BERT's MLM masks and NSP pairs: `mask_tokens`,
  `next_sentence_pairs`, `pack_sentence_pairs`, `pretraining_arrays` (numpy),
  `bert_pretraining_dataset`.
- `zoo.data.tagging`: token classification: `read_conll`, `split_words`,
  `tagging_arrays` (first subword labelled, the rest ignored), `entity_f1` (seqeval-style).
- `zoo.data.steps`: step-indexed batches of those arrays, the batch of a step a function
  of the step (exact resume): `step_dataset`, `bucketed_step_dataset`, `length_buckets`.
- `zoo.data.word2vec`: Word2Vec's step-indexed batches from one token stream
  (subsampling, dynamic windows, negative sampling): `tokenize_corpus`, `Word2VecData`,
  `word2vec_dataset`, `keep_probabilities`, `negative_sampling_table`, `window_offsets`.

The recipes' path: text -> `*_arrays` / `language_model_windows` (tokenized once) ->
`step_dataset` -> `model.fit`:

```python
features, labels = zoo.data.language_model_windows(texts, tokenizer, sequence_length=64)
dataset = zoo.data.step_dataset((features, labels), batch_size=32, seed=0,
                                start_step=0, total_steps=1000)
```

Names are imported on first use, so the corpus stays importable without TensorFlow.
"""

import importlib

# The names each module lends `zoo.data` (all in its `__all__`: tests/data/test_init.py),
# written out so that `zoo.data` imports no module before one of its names is used.
_EXPORTS = {
    module: tuple(names.split())
    for module, names in {
        "corpus": "CORPUS_SPLITS generate_pairs load_pairs load_text write_corpus",
        "loaders": "DEFAULT_SPLIT_FRACTIONS FILE_SPLITS MAX_INVALID_BYTE_FRACTION SPLIT_RULES"
        " BadRowsWarning FileReport hash_split load_text_dataset load_translation_pairs",
        "language_model": "language_model_dataset language_model_windows token_stream",
        "pretraining": "bert_pretraining_dataset mask_tokens next_sentence_pairs"
        " pack_sentence_pairs pretraining_arrays",
        "pipelines": "classification_arrays classification_dataset pack_token_ids"
        " tokenize_and_batch translation_arrays translation_dataset",
        "tagging": "IGNORE_LABEL entity_f1 entity_spans read_conll split_words tagging_arrays",
        "steps": "bucketed_step_dataset length_buckets step_dataset",
        "word2vec": "Word2VecData keep_probabilities negative_sampling_table tokenize_corpus"
        " window_offsets word2vec_dataset",
    }.items()
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_MODULE_OF)


def __getattr__(name):
    if name in _MODULE_OF:
        value = getattr(importlib.import_module(f"zoo.data.{_MODULE_OF[name]}"), name)
        globals()[name] = value
        return value
    if name in _EXPORTS:
        return importlib.import_module(f"zoo.data.{name}")
    raise AttributeError(f"module 'zoo.data' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
