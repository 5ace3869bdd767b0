"""Sentence vectors as the (weighted) mean of token vectors, and cosine search over them.

The lecture's simplest sentence representation: average the vectors of a sentence's
tokens. It works on any token vectors: Word2Vec rows, or the per-token outputs of a
BERT or GPT model, with padding masked out. Optional SIF weights `a / (a + p(token))`
(Arora et al. 2017) make frequent tokens count less.

Example:

>>> import numpy as np
>>> vectors = np.array([[[1.0, 0.0], [3.0, 2.0], [9.0, 9.0]]], "float32")
>>> SentenceEmbedding()(vectors, padding_mask=np.array([[1, 1, 0]])).numpy().tolist()
[[2.0, 1.0]]
"""

import keras
import numpy as np
from keras import ops

__all__ = ["SentenceEmbedding", "SentenceIndex", "cosine_search"]


def _error(message):
    return ValueError(f"SentenceEmbedding {message}")


@keras.saving.register_keras_serializable(package="zoo")
class SentenceEmbedding(keras.layers.Layer):
    """Masked (optionally frequency-weighted) mean of token vectors.

    Two ways in:
    - token vectors `(batch, sequence, dim)` and a `padding_mask` (BERT, GPT or any
      encoder output): the mean over the unmasked positions;
    - token ids `(batch, sequence)` when the layer holds an embedding matrix
      (`vocabulary_size` and `hidden_dim`, e.g. Word2Vec's `embeddings`): the ids are
      looked up first; without a `padding_mask`, id `padding_id` is padding.

    With token frequencies, each token is weighted `smoothing / (smoothing + p(token))`
    ("smooth inverse frequency", Arora, Liang and Ma 2017, "A Simple but Tough-to-Beat
    Baseline for Sentence Embeddings", ICLR); the mean divides by the sum of weights.
    A sentence with no unmasked token gets a zero vector.

    Args:
        vocabulary_size: None for vector inputs; the number of ids for id inputs
            (an embedding matrix of this height) or for frequency weights.
        hidden_dim: width of the embedding matrix (id inputs only).
        embeddings: optional initial matrix `(vocabulary_size, hidden_dim)` (numpy),
            e.g. `Word2Vec.embeddings`; not part of the config (it is a weight).
        token_frequencies: optional counts or probabilities `(vocabulary_size,)` of
            the tokens; turns on SIF weighting. Not part of the config (a weight).
        frequency_weighting: whether the layer holds SIF weights (set automatically
            when `token_frequencies` is given; from_config uses it).
        smoothing: SIF's `a` (1e-3 in the paper).
        normalize: L2-normalize the sentence vectors (cosine = dot product).
        padding_id: the id treated as padding when ids come without a mask.
        **kwargs: `keras.layers.Layer` arguments (`name`, `dtype`, `trainable`).

    Call arguments:
        inputs: float token vectors `(batch, sequence, dim)` or int ids
            `(batch, sequence)` (with an embedding matrix).
        padding_mask: optional `(batch, sequence)`, true / 1 for real tokens.
        token_ids: optional int ids `(batch, sequence)` of vector inputs, needed for
            frequency weighting of vectors.

    Returns:
        `(batch, dim)` sentence vectors.

    Example:

    >>> import numpy as np
    >>> layer = SentenceEmbedding(embeddings=np.eye(4, dtype="float32"))
    >>> layer(np.array([[1, 2, 0]])).numpy().tolist()
    [[0.0, 0.5, 0.5, 0.0]]
    """

    def __init__(
        self,
        vocabulary_size=None,
        hidden_dim=None,
        embeddings=None,
        token_frequencies=None,
        frequency_weighting=False,
        smoothing=1e-3,
        normalize=False,
        padding_id=0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if embeddings is not None:
            embeddings = np.asarray(embeddings, "float32")
            if embeddings.ndim != 2:
                raise _error(
                    f"received embeddings of shape {embeddings.shape}. Expected a matrix "
                    "(vocabulary_size, hidden_dim), e.g. Word2Vec.embeddings."
                )
            for name, value, size in (
                ("vocabulary_size", vocabulary_size, embeddings.shape[0]),
                ("hidden_dim", hidden_dim, embeddings.shape[1]),
            ):
                if value is not None and value != size:
                    raise _error(
                        f"received {name}={value} and embeddings of shape "
                        f"{embeddings.shape}. Leave {name} out; it is read from the matrix."
                    )
            vocabulary_size, hidden_dim = embeddings.shape
        if token_frequencies is not None:
            token_frequencies = np.asarray(token_frequencies, "float64").reshape(-1)
            if vocabulary_size is None:
                vocabulary_size = len(token_frequencies)
            if len(token_frequencies) != vocabulary_size or (token_frequencies < 0).any():
                raise _error(
                    f"received token_frequencies of shape {token_frequencies.shape}. "
                    f"Expected {vocabulary_size} non-negative counts, one per token id."
                )
            frequency_weighting = True
        if vocabulary_size is not None and (
            isinstance(vocabulary_size, bool)
            or not isinstance(vocabulary_size, (int, np.integer))
            or vocabulary_size < 1
        ):
            raise _error(f"received vocabulary_size={vocabulary_size!r}. Expected an int >= 1.")
        if hidden_dim is not None and (
            isinstance(hidden_dim, bool)
            or not isinstance(hidden_dim, (int, np.integer))
            or hidden_dim < 1
        ):
            raise _error(f"received hidden_dim={hidden_dim!r}. Expected an int >= 1.")
        if hidden_dim is not None and vocabulary_size is None:
            raise _error(
                f"received hidden_dim={hidden_dim} without vocabulary_size. An embedding "
                "matrix needs both (or pass embeddings=matrix)."
            )
        if frequency_weighting and vocabulary_size is None:
            raise _error(
                "received frequency_weighting=True without vocabulary_size. Pass "
                "token_frequencies=counts (one per token id)."
            )
        if not isinstance(smoothing, (int, float)) or smoothing <= 0:
            raise _error(f"received smoothing={smoothing!r}. Expected a number > 0.")
        self.vocabulary_size = None if vocabulary_size is None else int(vocabulary_size)
        self.hidden_dim = None if hidden_dim is None else int(hidden_dim)
        self.frequency_weighting = bool(frequency_weighting)
        self.smoothing = float(smoothing)
        self.normalize = bool(normalize)
        self.padding_id = int(padding_id)
        self.supports_masking = True

        # Layers and weights
        self.token_embedding = None
        if self.hidden_dim is not None:
            self.token_embedding = keras.layers.Embedding(
                self.vocabulary_size,
                self.hidden_dim,
                dtype=self.dtype_policy,
                name="token_embedding",
            )
            self.token_embedding.build((None,))
            if embeddings is not None:
                self.token_embedding.embeddings.assign(embeddings)
        self.token_weights = None
        if self.frequency_weighting:
            self.token_weights = self.add_weight(
                shape=(self.vocabulary_size,),
                initializer="ones",
                trainable=False,
                dtype="float32",
                name="token_weights",
            )
            if token_frequencies is not None:
                total = max(float(token_frequencies.sum()), 1e-12)
                weights = self.smoothing / (self.smoothing + token_frequencies / total)
                self.token_weights.assign(weights.astype("float32"))
        self.built = True

    def call(self, inputs, padding_mask=None, token_ids=None, mask=None):
        is_ids = "int" in keras.backend.standardize_dtype(inputs.dtype)
        if is_ids:
            if self.token_embedding is None:
                raise _error(
                    "received int token ids but holds no embedding matrix. Pass token "
                    "vectors (batch, sequence, dim), or build the layer with "
                    "embeddings=matrix (e.g. Word2Vec.embeddings)."
                )
            token_ids = inputs
            if padding_mask is None and mask is None:
                padding_mask = ops.not_equal(inputs, self.padding_id)
            inputs = self.token_embedding(inputs)
        elif len(inputs.shape) != 3:
            raise _error(
                f"received inputs of shape {inputs.shape}. Expected token vectors "
                "(batch, sequence, dim) or int ids (batch, sequence)."
            )
        if padding_mask is None:
            padding_mask = mask
        vectors = ops.cast(inputs, "float32")
        if padding_mask is None:
            weights = ops.ones(ops.shape(vectors)[:2], "float32")
        else:
            weights = ops.cast(ops.cast(padding_mask, "bool"), "float32")
        if self.frequency_weighting:
            if token_ids is None:
                raise _error(
                    "weights tokens by frequency and received vectors without token_ids. "
                    "Pass token_ids=ids (batch, sequence) with the vectors."
                )
            ids = ops.clip(ops.cast(token_ids, "int32"), 0, self.vocabulary_size - 1)
            weights = weights * ops.take(ops.cast(self.token_weights, "float32"), ids)
        # (batch, dim) = sum over the sequence of weight * vector / sum of weights
        total = ops.sum(vectors * weights[:, :, None], axis=1)
        outputs = total / ops.maximum(ops.sum(weights, axis=1, keepdims=True), 1e-12)
        if self.normalize:
            norm = ops.sqrt(ops.sum(ops.square(outputs), axis=-1, keepdims=True))
            outputs = outputs / ops.maximum(norm, 1e-12)
        return ops.cast(outputs, self.compute_dtype)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape, *args, **kwargs):
        if self.hidden_dim is not None and len(input_shape) == 2:
            return (input_shape[0], self.hidden_dim)
        return (input_shape[0], input_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "hidden_dim": self.hidden_dim,
                "frequency_weighting": self.frequency_weighting,
                "smoothing": self.smoothing,
                "normalize": self.normalize,
                "padding_id": self.padding_id,
            }
        )
        return config


def _unit_rows(matrix, name):
    matrix = np.asarray(keras.ops.convert_to_numpy(matrix), "float32")
    if matrix.ndim == 1:
        matrix = matrix[None, :]
    if matrix.ndim != 2:
        raise ValueError(
            f"cosine_search() received {name} of shape {matrix.shape}. Expected vectors "
            "(count, dim) or one vector (dim,)."
        )
    return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)


def cosine_search(queries, vectors, k=5):
    """The k vectors most cosine-similar to each query.

    Args:
        queries: `(num_queries, dim)` or `(dim,)`.
        vectors: `(count, dim)`, e.g. sentence vectors.
        k: how many per query (at most `count`).

    Returns:
        `(scores, indices)`: numpy `(num_queries, k)` cosines, best first, and the rows
        of `vectors` they belong to.

    Example:

    >>> scores, indices = cosine_search([1.0, 0.0], [[0.0, 1.0], [2.0, 0.1]], k=1)
    >>> indices.tolist()
    [[1]]
    """
    queries, vectors = _unit_rows(queries, "queries"), _unit_rows(vectors, "vectors")
    if queries.shape[1] != vectors.shape[1]:
        raise ValueError(
            f"cosine_search() received queries of size {queries.shape[1]} and vectors of "
            f"size {vectors.shape[1]}. Both must come from the same encoder."
        )
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"cosine_search() received k={k!r}. Expected an int >= 1.")
    k = min(int(k), len(vectors))
    scores = queries @ vectors.T  # (num_queries, count)
    indices = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(scores, indices, 1), indices


class SentenceIndex:
    """Cosine-similarity search over a fixed set of sentences.

    Args:
        sentences: the texts to search.
        encoder: a callable from a list of texts to vectors `(count, dim)`, e.g.
            `Word2Vec.encode` or a function running a BERT model plus
            `SentenceEmbedding`. Used for the sentences and for text queries.
        vectors: optional precomputed sentence vectors (then `encoder` is only needed
            for text queries).

    Example:

    >>> import numpy as np
    >>> table = {"cats purr": [1.0, 0.0], "dogs bark": [0.0, 1.0], "cat": [0.9, 0.1]}
    >>> encode = lambda texts: np.array([table[t] for t in texts])
    >>> index = SentenceIndex(["cats purr", "dogs bark"], encoder=encode)
    >>> index.search("cat", k=1)[0][0]
    'cats purr'
    """

    def __init__(self, sentences, encoder=None, vectors=None):
        if isinstance(sentences, str):
            sentences = [sentences]
        self.sentences = list(sentences)
        if vectors is None and encoder is None:
            raise ValueError(
                "SentenceIndex received neither an encoder nor vectors. Pass "
                "encoder=model.encode (texts -> vectors) or vectors=(count, dim)."
            )
        self.encoder = encoder
        vectors = encoder(self.sentences) if vectors is None else vectors
        self.vectors = np.asarray(keras.ops.convert_to_numpy(vectors), "float32")
        if self.vectors.ndim != 2 or len(self.vectors) != len(self.sentences):
            raise ValueError(
                f"SentenceIndex received {len(self.sentences)} sentences and vectors of "
                f"shape {self.vectors.shape}. Expected one vector per sentence."
            )

    def search(self, query, k=5):
        """The k nearest sentences to a text or vector: `[(sentence, cosine), ...]`.

        A list of queries gives a list of such lists.
        """
        single = isinstance(query, str) or np.asarray(query).ndim == 1
        queries = [query] if single else list(query)
        if queries and isinstance(queries[0], str):
            if self.encoder is None:
                raise ValueError(
                    "SentenceIndex.search() received text but the index has no encoder. "
                    "Pass query vectors, or build the index with encoder=..."
                )
            queries = self.encoder(queries)
        scores, indices = cosine_search(queries, self.vectors, k)
        results = [
            [(self.sentences[i], float(s)) for i, s in zip(row_indices, row_scores)]
            for row_indices, row_scores in zip(indices, scores)
        ]
        return results[0] if single else results
