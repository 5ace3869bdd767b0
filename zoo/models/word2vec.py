"""Word2Vec: skip-gram and CBOW with negative sampling, trained with Keras `fit`.

The lecture's point: a Word2Vec model *is* an embedding matrix (vocabulary_size x
hidden_dim). Its rows are learned by predicting the words around each word; words used
in the same contexts end with nearby vectors, and differences of vectors carry meaning
("king - man + woman ~ queen", a "gender direction").

Training data comes from `zoo.data.word2vec` (`Word2VecData`): step-indexed batches of
centers, each with its context ids, their weights (same document, inside the center's
random window) and its negatives. A training step is Keras' own `train_step`, on every
backend: called on a batch, the model returns the score u.v of every (center, slot)
pair (an einsum: on a TPU, a matmul at the matrix unit's default precision), and
`compute_loss` turns the scores into word2vec's negative-sampling loss. Under
TensorFlow the gradients of the embedding lookups are sparse (`tf.IndexedSlices`,
applied by SGD as a scatter); under JAX they are dense, and with a
`keras.distribution.DataParallel` (e.g. over a TPU's 8 cores) the centers of a batch are
split over the devices while the two matrices stay whole on each.

Word2vec's SGD, one batch at a time:

- a true pair scores -log sigmoid(u.v), a negative -log sigmoid(-u.v); the batch's terms
  are summed, not averaged, so every pair gets word2vec's full step (the loss Keras
  reports is that sum per pair: its value is the mean, its gradient the sum's);
- a center's `num_negatives` negatives stand in for each of its pairs' negatives, with
  weight = its number of pairs, so the expected gradient equals word2vec's per-pair
  negatives;
- CBOW predicts the center from the mean of the context vectors, and every context
  vector gets the whole step of that mean (as word2vec.c does);
- plain SGD, the learning rate decaying linearly 0.025 -> 0.0001 over the run
  (`word2vec_optimizer`).

All updates of a batch are taken at the same point, so a frequent token's gradients add
up over the batch: batches of a few hundred centers keep plain SGD stable (one update
from thousands overshoots where word2vec's sequential updates saturate), and
`steps_per_execution` runs many of them per host call. Under TensorFlow with XLA,
`Word2Vec.make_train_function` runs those steps in one compiled call rather than one
call a step (`zoo.models.word2vec_steps.FusedExecution`), fed one element of stacked
steps per call (`Word2Vec.fit_dataset`): with word2vec's SGD, through a closed-form
kernel that every model of the same shapes shares, so a second model compiles nothing;
with any other optimizer, through Keras' `train_step`.

References:
- Mikolov et al. 2013, "Efficient Estimation of Word Representations in Vector
  Space", arXiv:1301.3781 (skip-gram, CBOW).
- Mikolov et al. 2013, "Distributed Representations of Words and Phrases and their
  Compositionality", arXiv:1310.4546 (negative sampling, subsampling, analogies).
"""

import time

import keras
import numpy as np
from keras import ops

from zoo._arguments import arguments_config, deserialize_entry, keep_arguments
from zoo._checks import check_float, check_int
from zoo.data.word2vec import Word2VecData, tokenize_corpus
from zoo.models.word2vec_search import Word2VecSearch, reserved_ids
from zoo.models.word2vec_steps import FusedExecution

__all__ = ["Word2Vec", "word2vec_optimizer"]

MODES = ("skipgram", "cbow")


def word2vec_optimizer(learning_rate=0.025, min_learning_rate=1e-4, total_steps=1):
    """Word2vec's optimizer: plain SGD, the rate decaying linearly over `total_steps`.

    Step s uses `learning_rate + (min_learning_rate - learning_rate) * s / total_steps`.
    The step is the optimizer's `iterations`, which checkpoints keep, so a resumed run
    goes on down the same line.
    """
    owner = "word2vec_optimizer()"
    learning_rate = check_float(learning_rate, "learning_rate", owner, strict=True)
    min_learning_rate = check_float(min_learning_rate, "min_learning_rate", owner)
    total_steps = check_int(total_steps, "total_steps", owner)
    schedule = keras.optimizers.schedules.PolynomialDecay(
        learning_rate, decay_steps=total_steps, end_learning_rate=min_learning_rate, power=1.0
    )
    return keras.optimizers.SGD(schedule)


def _batch_axis_devices():
    """Devices on the batch axis of the current `keras.distribution` (1 without one)."""
    distribution = keras.distribution.distribution()
    if distribution is None:
        return None, 1
    mesh = distribution.device_mesh
    axis = getattr(distribution, "batch_dim_name", None) or mesh.axis_names[0]
    return axis, int(mesh.shape[list(mesh.axis_names).index(axis)])


def _process_shard():
    """`(process index, count)` when each process must feed its own rows of a batch (a
    multi-host JAX distribution that does not shard the dataset itself), else None."""
    distribution = keras.distribution.distribution()
    if distribution is None or getattr(distribution, "auto_shard_dataset", True):
        return None
    import jax

    return (jax.process_index(), jax.process_count()) if jax.process_count() > 1 else None


class _SyncEveryExecution(keras.callbacks.Callback):
    """Reads the loss after every execution, which makes Keras run its callbacks in step
    with training: no more than `steps_per_execution` steps are queued on the devices
    (thousands of queued steps with collectives can starve XLA's CPU devices)."""

    def on_train_batch_end(self, batch, logs=None):
        if logs and "loss" in logs:
            float(logs["loss"])


class _EpochLosses(keras.callbacks.Callback):
    """The mean loss of each epoch of a run, and its line when `verbose`.

    With a `fused` execution (one `fit` for the run) it reads the loss metric's value
    after every step (`FusedExecution.step_means`): the mean of steps `a .. b - 1` is
    `(b * m_b - a * m_a) / (b - a)` with `m_k` the mean after `k` steps. Otherwise
    (`fused=None`) the caller fits one epoch at a time and passes each epoch's loss to
    `end_epoch`.
    """

    def __init__(self, epoch_steps, verbose=0, fused=None):
        super().__init__()
        self.ends = np.cumsum(epoch_steps)
        self.verbose = verbose
        self.fused = fused
        self.losses = []
        self._means = []  # the loss metric after each step of the fit
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if self.fused is None or self.fused.step_means is None:
            return
        self._means.extend(float(mean) for mean in self.fused.step_means)
        for end in self.ends[len(self.losses) :]:
            if end > len(self._means):
                break
            begin = int(self.ends[len(self.losses) - 1]) if self.losses else 0
            previous = begin * self._means[begin - 1] if begin else 0.0
            self.end_epoch(float(end * self._means[end - 1] - previous) / (end - begin))

    def end_epoch(self, loss):
        self.losses.append(loss)
        if self.verbose:
            print(
                f"Word2Vec epoch {len(self.losses)}/{len(self.ends)}: loss {loss:.4f}, "
                f"{time.perf_counter() - self._start:.1f}s",
                flush=True,
            )
        self._start = time.perf_counter()


@keras.saving.register_keras_serializable(package="zoo")
class Word2Vec(Word2VecSearch, keras.Model):
    """Word2Vec: skip-gram or CBOW word vectors with negative sampling.

    The model holds two matrices of shape (vocabulary_size, hidden_dim): the word
    vectors (`token_embedding`, what `embeddings` returns) and the context vectors
    (`context_embedding`, word2vec's `syn1neg`). `train()` fits them on text: it builds
    the step-indexed batches of `zoo.data.Word2VecData`, compiles the model with
    `word2vec_optimizer` and runs Keras `fit` (data-parallel under a
    `keras.distribution`). Called on token ids, the model returns their word vectors,
    so a trained Word2Vec drops into other Keras models as a (frozen or fine-tuned)
    embedding; called on a training batch (a dict from `Word2VecData`), it returns the
    pair scores its `compute_loss` trains on, so `fit` works on those batches directly.

    Skip-gram predicts each context token from the center token; CBOW predicts the
    center token from the mean of its context vectors. Both use `num_negatives` noise
    tokens from the unigram^0.75 distribution (Mikolov et al. 2013, arXiv:1301.3781
    and arXiv:1310.4546). `most_similar`, `analogy`, `direction`, `project` and
    `encode` come from `zoo.models.word2vec_search.Word2VecSearch`.

    Args:
        vocabulary_size: number of token ids; taken from `tokenizer` when omitted.
        hidden_dim: size of the word vectors.
        window: largest distance between a center and a context token.
        num_negatives: noise tokens per center token.
        mode: "skipgram" or "cbow".
        tokenizer: optional zoo tokenizer (saved with the model); needed to look
            words up by their text and to train on raw text.
        **kwargs: `keras.Model` arguments (`name`, `dtype`).

    Call arguments:
        inputs: int token ids of any shape: returns their word vectors, shape
            `inputs.shape + (hidden_dim,)`. Or a training batch, a dict with
            "center_ids" `(batch,)`, "context_ids", "context_weights" `(batch, 2 *
            window)` and "negative_ids" `(batch, num_negatives)`: returns the scores
            `(batch, slots)`, skip-gram's slots being the contexts then the negatives,
            CBOW's the center then the negatives.

    Example:

    >>> from zoo.text.tokenizers import WordTokenizer
    >>> texts = ["the king rules the land", "the queen rules the land"] * 50
    >>> tokenizer = WordTokenizer.train(texts, vocabulary_size=20, verbose=False)
    >>> model = Word2Vec(hidden_dim=16, window=2, tokenizer=tokenizer)
    >>> history = model.train(texts, epochs=2, batch_size=64, seed=0, verbose=0)
    >>> model.embeddings.shape
    (12, 16)
    >>> [word for word, _ in model.most_similar("king", k=3)]  # doctest: +SKIP
    ['queen', 'land', 'rules']
    """

    _config_arguments = ("vocabulary_size", "hidden_dim", "window", "num_negatives", "mode")

    def __init__(
        self,
        vocabulary_size=None,
        hidden_dim=100,
        window=5,
        num_negatives=5,
        mode="skipgram",
        tokenizer=None,
        **kwargs,
    ):
        owner = "Word2Vec"
        if tokenizer is not None and not callable(getattr(tokenizer, "get_vocabulary", None)):
            raise ValueError(
                f"{owner} received tokenizer={tokenizer!r}. Expected a zoo tokenizer "
                "(zoo.text.tokenizers), or None."
            )
        if vocabulary_size is None:
            if tokenizer is None:
                raise ValueError(
                    f"{owner} received neither vocabulary_size nor tokenizer. Pass "
                    "tokenizer=... (vocabulary_size is then tokenizer.vocabulary_size()) "
                    "or vocabulary_size=... for training on ids."
                )
            vocabulary_size = tokenizer.vocabulary_size()
        vocabulary_size = check_int(vocabulary_size, "vocabulary_size", owner)
        if tokenizer is not None and tokenizer.vocabulary_size() != vocabulary_size:
            raise ValueError(
                f"{owner} received vocabulary_size={vocabulary_size} and a tokenizer of "
                f"{tokenizer.vocabulary_size()} tokens. They must match; leave out "
                "vocabulary_size to take the tokenizer's."
            )
        hidden_dim = check_int(hidden_dim, "hidden_dim", owner)
        window = check_int(window, "window", owner)
        num_negatives = check_int(num_negatives, "num_negatives", owner)
        if mode not in MODES:
            raise ValueError(f"{owner} received mode={mode!r}. Expected one of {MODES}.")
        super().__init__(**kwargs)

        # Layers
        scale = 0.5 / hidden_dim  # word2vec's initialization
        self.token_embedding = keras.layers.Embedding(
            vocabulary_size,
            hidden_dim,
            embeddings_initializer=keras.initializers.RandomUniform(-scale, scale),
            dtype=self.dtype_policy,
            name="token_embedding",
        )
        self.context_embedding = keras.layers.Embedding(
            vocabulary_size,
            hidden_dim,
            embeddings_initializer="zeros",
            dtype=self.dtype_policy,
            name="context_embedding",
        )
        self.token_embedding.build((None,))
        self.context_embedding.build((None,))
        # Training counts of each id (0 for ids never trained): frequency weights for
        # sentence vectors, and which ids similarity searches consider.
        self.token_counts = self.add_weight(
            shape=(vocabulary_size,),
            initializer="zeros",
            trainable=False,
            dtype="float32",
            name="token_counts",
        )
        self.tokenizer = tokenizer
        self.built = True

        keep_arguments(self, locals(), self._config_arguments)

    # ------------------------------------------------------------------------- model
    def call(self, inputs):
        if isinstance(inputs, dict):
            return self._pair_scores(inputs)
        return self.token_embedding(inputs)

    def _pair_scores(self, batch):
        """u.v of each (center, slot) pair of a training batch, `(batch, slots)`."""
        negatives = batch["negative_ids"]  # (batch, k)
        if self.mode == "skipgram":
            inputs = self.token_embedding(batch["center_ids"])  # (batch, dim)
            output_ids = ops.concatenate([batch["context_ids"], negatives], 1)
        else:
            weights = ops.cast(batch["context_weights"], self.compute_dtype)  # (batch, 2w)
            contexts = self.token_embedding(batch["context_ids"])  # (batch, 2w, dim)
            summed = ops.sum(weights[:, :, None] * contexts, 1)  # (batch, dim)
            pairs = ops.maximum(ops.sum(weights, -1, keepdims=True), 1.0)
            # The value is the mean; the gradient reaching each context vector is the
            # whole gradient of the mean (word2vec.c), not its share of it.
            inputs = ops.stop_gradient(summed / pairs) + summed - ops.stop_gradient(summed)
            center_ids = ops.expand_dims(batch["center_ids"], 1)
            output_ids = ops.concatenate([center_ids, negatives], 1)
        targets = self.context_embedding(output_ids)  # (batch, slots, dim)
        return ops.einsum("bd,bsd->bs", inputs, targets)  # (batch, slots)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Word2vec's negative-sampling loss of a training batch (see the module doc).

        Its value is the loss per pair (skip-gram) or per center (CBOW); its gradient
        is that of the sum over the batch, word2vec's SGD step.
        """
        if not isinstance(x, dict):
            return super().compute_loss(x, y, y_pred, sample_weight, training)
        scores = ops.cast(y_pred, "float32")
        weights = ops.cast(x["context_weights"], "float32")  # (batch, 2w)
        num_negatives = x["negative_ids"].shape[-1]
        pairs = ops.sum(weights, -1, keepdims=True)  # (batch, 1) contexts per center
        if self.mode == "skipgram":
            slot_weights = ops.concatenate([weights, ops.repeat(pairs, num_negatives, 1)], 1)
            signs = [1.0] * weights.shape[-1] + [-1.0] * num_negatives
            count = ops.sum(pairs)
        else:
            active = ops.cast(pairs > 0, "float32")  # centers with a context
            slot_weights = ops.repeat(active, 1 + num_negatives, 1)
            signs = [1.0] + [-1.0] * num_negatives
            count = ops.sum(active)
        signs = ops.convert_to_tensor(signs, "float32")
        total = -ops.sum(slot_weights * ops.log_sigmoid(signs * scores))
        mean = total / ops.maximum(count, 1.0)
        return ops.stop_gradient(mean) + total - ops.stop_gradient(total)

    def make_train_function(self, force=False):
        """Keras' train function; under TensorFlow with XLA and `steps_per_execution`
        above 1, one that runs each execution's steps in one XLA call (`FusedExecution`)."""
        if self.train_function is not None and not force:
            return self.train_function
        super().make_train_function(force=True)
        if (
            keras.backend.backend() == "tensorflow"
            and self.jit_compile
            and not self.run_eagerly
            and self.steps_per_execution > 1
            and self.distribute_strategy.num_replicas_in_sync == 1
        ):
            self.train_function = FusedExecution(self, self.train_function)
        return self.train_function

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape), self.hidden_dim)

    def get_config(self):
        tokenizer = self.tokenizer
        return {
            "name": self.name,
            **arguments_config(self, self._config_arguments),
            "tokenizer": None
            if tokenizer is None
            else keras.saving.serialize_keras_object(tokenizer),
        }

    @classmethod
    def from_config(cls, config):
        import zoo.text.tokenizers  # noqa: F401  registers the tokenizer classes

        return cls(**deserialize_entry(config, "tokenizer"))

    @staticmethod
    def load(path):
        """Load a Word2Vec saved with `model.save(path)` (`.keras`, tokenizer included)."""
        model = keras.saving.load_model(path)
        if not isinstance(model, Word2Vec):
            raise ValueError(
                f"Word2Vec.load() found a {type(model).__name__} in {path!r}. Expected a file "
                "written by Word2Vec.save()."
            )
        return model

    @property
    def embeddings(self):
        """The word vectors, numpy `(vocabulary_size, hidden_dim)`."""
        return keras.ops.convert_to_numpy(self.token_embedding.embeddings)

    # ------------------------------------------------------------------------- train
    def training_data(
        self,
        data,
        tokenizer=None,
        epochs=5,
        batch_size=256,
        sample=1e-3,
        min_count=1,
        dynamic_window=True,
        seed=None,
    ):
        """Tokenize `data` once and return its training batches, a `Word2VecData`.

        Args are those of `train()`. The model's tokenizer is used (or `tokenizer`,
        attached to a model that has none); its reserved tokens are never trained.
        """
        owner = "Word2Vec.train()"
        if tokenizer is not None and not callable(getattr(tokenizer, "get_vocabulary", None)):
            raise ValueError(
                f"{owner} received tokenizer={tokenizer!r}. Expected a zoo tokenizer or None."
            )
        if tokenizer is not None and tokenizer.vocabulary_size() != self.vocabulary_size:
            raise ValueError(
                f"{owner} received a tokenizer of {tokenizer.vocabulary_size()} tokens for a "
                f"model of vocabulary_size={self.vocabulary_size}. Build the model with "
                "Word2Vec(tokenizer=tokenizer) so the sizes match."
            )
        if tokenizer is not None and self.tokenizer is None:
            self.tokenizer = tokenizer
        tokenizer = tokenizer or self.tokenizer
        token_ids, row_splits = tokenize_corpus(data, tokenizer)
        return Word2VecData(
            token_ids,
            row_splits,
            self.vocabulary_size,
            window=self.window,
            num_negatives=self.num_negatives,
            batch_size=batch_size,
            epochs=epochs,
            sample=sample,
            min_count=min_count,
            excluded_ids=reserved_ids(tokenizer),
            dynamic_window=dynamic_window,
            seed=seed,
        )

    def fit_dataset(self, data, start_step=0, end_step=None, shard=None):
        """The batches of a `Word2VecData` as this compiled model's `fit` takes them best.

        Under TensorFlow with XLA and `steps_per_execution` above 1 (`FusedExecution`),
        one element per execution (`data.dataset(..., steps_per_element=
        steps_per_execution)`); otherwise one step per element. Pass the result to `fit`
        with `steps_per_epoch=end_step - start_step`.

        Args:
            data: the `Word2VecData` (from `training_data`).
            start_step, end_step, shard: as in `Word2VecData.dataset`.

        Example (what `train()` does, in your own `fit`):

        >>> data = model.training_data(texts, epochs=2, batch_size=64, seed=0)
        >>> model.compile(
        ...     optimizer=word2vec_optimizer(total_steps=data.total_steps),
        ...     jit_compile=True,
        ...     steps_per_execution=32,
        ... )
        >>> history = model.fit(
        ...     model.fit_dataset(data), steps_per_epoch=data.total_steps, shuffle=False
        ... )
        """
        if not self.compiled:
            raise ValueError(
                "Word2Vec.fit_dataset() needs a compiled model. Call compile() first, "
                "e.g. with optimizer=word2vec_optimizer(...)."
            )
        fused = isinstance(self.make_train_function(), FusedExecution)
        steps = int(self.steps_per_execution) if fused else 1
        return data.dataset(start_step, end_step, shard=shard, steps_per_element=steps)

    def add_token_counts(self, data):
        """Add the token counts of a `Word2VecData` to `token_counts` (what was trained)."""
        counts = np.asarray(data.trained_counts, np.float32)
        self.token_counts.assign(keras.ops.convert_to_numpy(self.token_counts) + counts)

    def train(
        self,
        data,
        tokenizer=None,
        epochs=5,
        batch_size=256,
        learning_rate=0.025,
        min_learning_rate=1e-4,
        sample=1e-3,
        min_count=1,
        dynamic_window=True,
        seed=None,
        jit_compile=True,
        steps_per_execution=32,
        verbose=1,
    ):
        """Fit the vectors on text (or token ids) with negative-sampling SGD (`fit`).

        Tokenizes `data` once (`training_data`), compiles the model with
        `word2vec_optimizer` over the run's steps (replacing an earlier `compile`) and
        calls `fit` on the run's steps: once (TensorFlow with XLA and
        `steps_per_execution` above 1, the epochs' losses read from each step's), else
        once per epoch.

        Args:
            data: texts (list of str, one document each), a path to a text file (one
                document a line), a `tf.data.Dataset` of strings, or token ids (a list
                of int lists or an int `tf.RaggedTensor`). Context never crosses a
                document boundary.
            tokenizer: a zoo tokenizer; defaults to the model's. When the model has
                none, this one is attached (and saved with the model).
            epochs: passes over the corpus.
            batch_size: center tokens per SGD step (global). Under JAX with a
                `keras.distribution`, a multiple of the devices on its batch axis.
            learning_rate, min_learning_rate: the SGD step size decays linearly from
                the first to the second over the run (word2vec's schedule).
            sample: subsampling threshold for frequent tokens (0 disables it).
            min_count: tokens seen fewer times are left out (and not trained).
            dynamic_window: draw each center's window in [1, window] (word2vec).
            seed: int seed of the data pipeline (subsampling, windows, negatives).
            jit_compile: compile the training step with XLA.
            steps_per_execution: SGD steps per host call.
            verbose: 0 silent, 1 one line per epoch.

        Returns:
            A dict: "loss" (mean loss per pair, or per center for CBOW, per epoch),
            "num_tokens" (corpus tokens per epoch), "num_trainable_tokens", "steps",
            "seconds" (training time), "words_per_second" (corpus tokens x epochs /
            seconds), "tokenize_seconds".
        """
        owner = "Word2Vec.train()"
        epochs = check_int(epochs, "epochs", owner)
        batch_size = check_int(batch_size, "batch_size", owner)
        steps_per_execution = check_int(steps_per_execution, "steps_per_execution", owner)
        learning_rate = check_float(learning_rate, "learning_rate", owner, strict=True)
        min_learning_rate = check_float(min_learning_rate, "min_learning_rate", owner)
        axis, devices = _batch_axis_devices()
        if batch_size % devices:
            lower = batch_size - batch_size % devices
            options = [str(size) for size in (lower, lower + devices) if size > 0]
            raise ValueError(
                f"{owner} received batch_size={batch_size}, which cannot be split over "
                f"the {devices} devices of the distribution's {axis!r} axis. Pass a "
                f"multiple of {devices}, e.g. batch_size={' or '.join(options)}."
            )
        start = time.perf_counter()
        corpus = self.training_data(
            data, tokenizer, epochs, batch_size, sample, min_count, dynamic_window, seed
        )
        tokenize_seconds = time.perf_counter() - start
        self.compile(
            optimizer=word2vec_optimizer(learning_rate, min_learning_rate, corpus.total_steps),
            jit_compile=jit_compile,
            steps_per_execution=steps_per_execution,
        )
        # One `fit` for the run where each step's loss can be read back (the fused
        # execution), else one per epoch (its loss is the epoch's mean).
        fused = self.make_train_function()
        fused = fused if isinstance(fused, FusedExecution) else None
        epochs_seen = _EpochLosses(corpus.epoch_steps, verbose, fused)
        shard, step, start = _process_shard(), 0, time.perf_counter()
        for steps in corpus.epoch_steps if fused is None else [corpus.total_steps]:
            history = self.fit(
                self.fit_dataset(corpus, step, step + steps, shard=shard),
                steps_per_epoch=steps,
                shuffle=False,
                callbacks=[_SyncEveryExecution(), epochs_seen],
                verbose=0,
            )
            step += steps
            if fused is None:
                epochs_seen.end_epoch(float(history.history["loss"][-1]))
        losses = epochs_seen.losses
        seconds = time.perf_counter() - start
        self.add_token_counts(corpus)
        return {
            "loss": losses,
            "num_tokens": corpus.num_tokens,
            "num_trainable_tokens": corpus.num_trainable_tokens,
            "steps": corpus.total_steps,
            "seconds": seconds,
            "tokenize_seconds": tokenize_seconds,
            "words_per_second": corpus.num_tokens * epochs / max(seconds, 1e-9),
        }
