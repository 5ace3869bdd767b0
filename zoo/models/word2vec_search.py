"""What trained word vectors answer: neighbours, analogies, directions, sentence vectors.

`Word2VecSearch` is the part of `zoo.models.Word2Vec` that reads its word vectors:
`vector`, `most_similar`, `analogy`, `direction`, `project`, `sentence_embedding` and
`encode`. It needs `embeddings` (numpy `(vocabulary_size, hidden_dim)`), `tokenizer`
(or None), `token_counts`, `vocabulary_size` and `hidden_dim` from the class it is
mixed into.

References:
- Mikolov et al. 2013, "Distributed Representations of Words and Phrases and their
  Compositionality", arXiv:1310.4546 (analogies).
- Bolukbasi et al. 2016, "Man is to Computer Programmer as Woman is to Homemaker?",
  arXiv:1607.06520 (directions such as gender, projections onto them).
- Arora et al. 2017, "A Simple but Tough-to-Beat Baseline for Sentence Embeddings"
  (SIF weights of sentence vectors).
"""

import keras
import numpy as np
import tensorflow as tf

from zoo._checks import check_int

__all__ = ["Word2VecSearch", "reserved_ids"]


def reserved_ids(tokenizer):
    """The ids of a tokenizer's reserved tokens ([PAD], [UNK], ...); none without one."""
    if tokenizer is None:
        return []
    reserved = getattr(tokenizer, "reserved_tokens", None) or []
    return [tokenizer.token_to_id(token) for token in reserved]


class Word2VecSearch:
    """Similarity search and sentence vectors over a model's word vectors (a mixin)."""

    # -------------------------------------------------------------------- lookups
    def _vocabulary(self):
        if self.tokenizer is None:
            return [str(i) for i in range(self.vocabulary_size)]
        return self.tokenizer.get_vocabulary()

    def _require_tokenizer(self, word):
        if self.tokenizer is None:
            raise ValueError(
                f"Word2Vec received the word {word!r} but has no tokenizer. Pass token ids "
                "(ints), or build the model with Word2Vec(tokenizer=...)."
            )

    def _ids_of(self, word):
        """The ids whose mean vector stands for `word` (one id, or its subword pieces)."""
        if isinstance(word, (int, np.integer)) and not isinstance(word, bool):
            if not 0 <= word < self.vocabulary_size:
                raise ValueError(
                    f"Word2Vec received token id {word}, outside [0, {self.vocabulary_size})."
                )
            return [int(word)]
        if not isinstance(word, str):
            raise ValueError(
                f"Word2Vec received {word!r}. Expected a word (str) or a token id (int)."
            )
        self._require_tokenizer(word)
        index = self.tokenizer._token_index()
        if word in index and word not in self.tokenizer.reserved_tokens:
            ids = [index[word]]
        else:
            ids = [int(i) for i in np.asarray(self.tokenizer(word)).reshape(-1)]
        unknown = self.tokenizer.unk_token_id
        reserved = set(reserved_ids(self.tokenizer))
        counts = keras.ops.convert_to_numpy(self.token_counts)
        trained = counts.sum() == 0 or all(counts[i] > 0 for i in ids)
        if not ids or unknown in ids or reserved.intersection(ids) or not trained:
            raise ValueError(
                f"Word2Vec does not know the word {word!r}: it is "
                + ("outside the tokenizer's vocabulary" if trained else "not a trained token")
                + f" (tokens {[self.tokenizer.id_to_token(i) for i in ids]}). Check the "
                "spelling, or train with a lower min_count or a larger vocabulary."
            )
        return ids

    def vector(self, word):
        """The vector of a word (mean of its subword pieces) or of a token id, numpy."""
        return self.embeddings[self._ids_of(word)].mean(axis=0)

    def _unit_embeddings(self):
        matrix = self.embeddings.astype(np.float32)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return matrix / np.maximum(norms, 1e-12)

    def _unit_vector(self, word):
        vector = self._unit_embeddings()[self._ids_of(word)].mean(axis=0)
        return vector / max(float(np.linalg.norm(vector)), 1e-12)

    # --------------------------------------------------------------------- search
    def _search(self, query, exclude, k):
        k = check_int(k, "k", "Word2Vec")
        query = np.asarray(query, np.float32).reshape(-1)
        if query.shape[0] != self.hidden_dim:
            raise ValueError(
                f"Word2Vec received a query vector of size {query.shape[0]}. Expected "
                f"hidden_dim={self.hidden_dim}."
            )
        query = query / max(float(np.linalg.norm(query)), 1e-12)
        scores = self._unit_embeddings() @ query
        allowed = np.ones(self.vocabulary_size, bool)
        allowed[reserved_ids(self.tokenizer)] = False
        counts = keras.ops.convert_to_numpy(self.token_counts)
        if counts.sum() > 0:
            allowed &= counts > 0
        allowed[list(exclude)] = False
        candidates = np.flatnonzero(allowed)
        order = candidates[np.argsort(-scores[candidates], kind="stable")[:k]]
        vocabulary = self._vocabulary()
        return [(vocabulary[i], float(scores[i])) for i in order]

    def most_similar(self, word_or_vector, k=10):
        """The k tokens of highest cosine similarity, as `[(token, cosine), ...]`.

        Args:
            word_or_vector: a word (str), a token id (int) or a vector `(hidden_dim,)`.
                A word itself is left out of the answer; so are reserved tokens and
                tokens that were not trained.
            k: how many.
        """
        if isinstance(word_or_vector, (str, int, np.integer)):
            ids = self._ids_of(word_or_vector)
            return self._search(self._unit_vector(word_or_vector), ids, k)
        return self._search(word_or_vector, [], k)

    def analogy(self, a, b, c, k=10):
        """Words nearest to `a - b + c` (unit vectors; a, b, c left out).

        `analogy("king", "man", "woman")` asks "king is to man as ? is to woman"
        and should answer "queen".
        """
        query = self._unit_vector(a) - self._unit_vector(b) + self._unit_vector(c)
        exclude = self._ids_of(a) + self._ids_of(b) + self._ids_of(c)
        return self._search(query, exclude, k)

    def direction(self, pairs):
        """The mean difference of (unit) word vectors over word pairs, numpy `(hidden_dim,)`.

        `direction([("he", "she"), ("king", "queen")])` is a "gender" direction.
        """
        if isinstance(pairs, (str, bytes)) or not pairs:
            raise ValueError(
                f"Word2Vec.direction() received {pairs!r}. Expected a non-empty list of word "
                'pairs, e.g. [("he", "she"), ("king", "queen")].'
            )
        differences = []
        for pair in pairs:
            if not isinstance(pair, (list, tuple)) or len(pair) != 2:
                raise ValueError(
                    f"Word2Vec.direction() received the item {pair!r}. Expected pairs of two "
                    'words, e.g. ("he", "she").'
                )
            differences.append(self._unit_vector(pair[0]) - self._unit_vector(pair[1]))
        return np.mean(differences, axis=0)

    def project(self, words, direction):
        """Scalar projections of (unit) word vectors onto `direction`, numpy `(len(words),)`.

        Positive values lean to the first words of the pairs that made the direction.
        """
        direction = np.asarray(direction, np.float32).reshape(-1)
        if direction.shape[0] != self.hidden_dim or not np.linalg.norm(direction) > 0:
            raise ValueError(
                f"Word2Vec.project() received a direction of shape {direction.shape}. "
                f"Expected a non-zero vector of size hidden_dim={self.hidden_dim}, as "
                "direction() returns."
            )
        if isinstance(words, (str, int)):
            words = [words]
        unit = direction / np.linalg.norm(direction)
        return np.array([float(self._unit_vector(w) @ unit) for w in words], np.float32)

    # ----------------------------------------------------------- sentence vectors
    def sentence_embedding(self, frequency_weighting=False, smoothing=1e-3):
        """A `zoo.layers.SentenceEmbedding` over these word vectors (token ids in).

        With `frequency_weighting`, tokens are weighted `a / (a + p(token))` with the
        training frequencies p (SIF, Arora et al. 2017).
        """
        from zoo.layers.sentence_embedding import SentenceEmbedding

        counts = keras.ops.convert_to_numpy(self.token_counts)
        return SentenceEmbedding(
            embeddings=self.embeddings,
            token_frequencies=counts if frequency_weighting else None,
            smoothing=smoothing,
            trainable=False,
        )

    def encode(self, texts, frequency_weighting=False, batch_size=256):
        """Sentence vectors of texts: the (weighted) mean of their token vectors.

        Reserved tokens (padding, [UNK]) are left out of the mean; a text with no known
        token gets a zero vector. Returns numpy `(len(texts), hidden_dim)`.
        """
        if isinstance(texts, str):
            texts = [texts]
        self._require_tokenizer(texts[0] if texts else "")
        layer = self.sentence_embedding(frequency_weighting)
        reserved = np.array(reserved_ids(self.tokenizer) or [-1], np.int32)
        outputs = []
        for start in range(0, len(texts), batch_size):
            ids = self.tokenizer(tf.constant(texts[start : start + batch_size], tf.string))
            if isinstance(ids, tf.RaggedTensor):
                ids = ids.to_tensor(default_value=0)
            ids = tf.cast(ids, tf.int32)
            mask = tf.logical_not(tf.reduce_any(ids[..., None] == reserved, axis=-1))
            outputs.append(keras.ops.convert_to_numpy(layer(ids, padding_mask=mask)))
        if not outputs:
            return np.zeros((0, self.hidden_dim), np.float32)
        return np.concatenate(outputs).astype(np.float32)
