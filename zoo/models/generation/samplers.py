"""Samplers: pick the next token from the logits of one decoding step.

Every sampler is a small configuration object, serializable like
`keras_hub.samplers`: `get_config()` / `from_config()`, and registered with Keras
(`keras.saving.serialize_keras_object(sampler)` and `deserialize_keras_object(...)`
round-trip it). The decoding loops (`zoo.models.generation.decoding`) call
`next_token(logits, seed)` once per step inside the compiled loop; the seed is an int32
`(2,)` tensor that changes every step, so sampling is stateless and a seed reproduces
its samples (TensorFlow, JAX).

Example:

>>> sampler = get_sampler("top_p", p=0.9, temperature=0.8)
>>> sampler
TopPSampler(temperature=0.8, seed=None, p=0.9, k=None)
>>> config = keras.saving.serialize_keras_object(sampler)
>>> keras.saving.deserialize_keras_object(config).get_config() == sampler.get_config()
True
"""

import math

import keras
import numpy as np
from keras import ops

from zoo._checks import check_int, is_int

__all__ = [
    "MASKED_SCORE",
    "BeamSampler",
    "GreedySampler",
    "KerasHubSampler",
    "Sampler",
    "TopKSampler",
    "TopPSampler",
    "get_sampler",
    "gumbel_argmax",
    "stateless_uniform",
    "step_seed",
]

# Scores of candidates that may not be chosen. Finite, so sums and divisions stay finite.
MASKED_SCORE = -1e30


def _check_temperature(temperature, allow_zero=True):
    """`temperature` as a float after checking it is finite and >= 0 (> 0 without zero)."""
    ok = isinstance(temperature, (int, float, np.floating)) and not isinstance(temperature, bool)
    if (
        not ok
        or not math.isfinite(temperature)
        or temperature < 0
        or (temperature == 0 and not allow_zero)
    ):
        bound = ">= 0 (0 means greedy)" if allow_zero else "> 0"
        raise ValueError(
            f"`temperature` must be a finite number {bound}. Received: temperature={temperature!r}."
        )
    return float(temperature)


# ----------------------------------------------------------------------------- randomness


def stateless_uniform(shape, seed):
    """Stateless uniform numbers in (0, 1) from an int32 `(2,)` seed tensor."""
    backend = keras.config.backend()
    tiny = float(np.finfo(np.float32).tiny)
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.random.stateless_uniform(shape, seed=seed, minval=tiny, maxval=1.0)
    if backend == "jax":
        import jax

        key = jax.random.wrap_key_data(ops.cast(seed, "uint32"), impl="threefry2x32")
        return jax.random.uniform(key, shape, minval=tiny, maxval=1.0)
    # Eager backends (torch, numpy): the seed is concrete here.
    seed = ops.convert_to_numpy(seed).astype(np.int64)
    rng = np.random.default_rng([int(seed[0]) & 0xFFFFFFFF, int(seed[1]) & 0xFFFFFFFF])
    return ops.convert_to_tensor(rng.uniform(tiny, 1.0, size=shape).astype("float32"))


def step_seed(seed, step):
    """A different stateless seed for every decoding step."""
    return ops.stack([seed[0], seed[1] + ops.cast(step, "int32")])


def gumbel_argmax(logits, seed):
    """One sample per row of `softmax(logits)`: `argmax(logits + Gumbel noise)`."""
    noise = -ops.log(-ops.log(stateless_uniform(ops.shape(logits), seed)))
    return ops.argmax(logits + noise, axis=-1)


# ----------------------------------------------------------------------------- samplers


@keras.saving.register_keras_serializable(package="zoo")
class Sampler:
    """Base class: picks the next token from float32 logits `(batch, vocabulary)`.

    Subclasses implement `next_token(logits, seed)`, where `seed` is an int32 `(2,)`
    tensor that changes every step (use it with stateless random ops, e.g.
    `zoo.models.generation.samplers.gumbel_argmax`), and return int `(batch,)` token
    ids. A subclass with constructor arguments of its own adds them to `get_config`
    (and registers itself with `keras.saving.register_keras_serializable`), as
    `keras_hub.samplers` do.

    Args:
        temperature: logits are divided by it before sampling; higher is more random,
            `0` picks the most likely token (greedy).
        seed: default seed of `generate` calls that pass none.

    Example:

    >>> class LastTokenSampler(Sampler):
    ...     def next_token(self, logits, seed):
    ...         return ops.full(ops.shape(logits)[:1], logits.shape[-1] - 1, "int32")
    >>> LastTokenSampler().get_config()
    {'temperature': 1.0, 'seed': None}
    """

    name = "sampler"

    def __init__(self, temperature=1.0, seed=None):
        self.temperature = _check_temperature(temperature)
        if seed is not None and not is_int(seed):
            raise ValueError(f"`seed` must be an int or None. Received: seed={seed!r}.")
        self.seed = seed

    def scale(self, logits):
        """`logits / temperature` in float32."""
        logits = ops.cast(logits, "float32")
        if self.temperature in (0.0, 1.0):
            return logits
        return logits / self.temperature

    def next_token(self, logits, seed):
        raise NotImplementedError

    def get_config(self):
        return {"temperature": self.temperature, "seed": self.seed}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def cache_key(self):
        """What the compiled function depends on (the seed is a runtime input)."""
        config = {k: v for k, v in self.get_config().items() if k != "seed"}
        return (type(self).__name__, tuple(sorted(config.items())))

    def __repr__(self):
        arguments = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({arguments})"


@keras.saving.register_keras_serializable(package="zoo")
class GreedySampler(Sampler):
    """Always the most likely token (`argmax` of the logits).

    Example:

    >>> logits = np.array([[0.1, 2.0, 0.3]], "float32")
    >>> ops.convert_to_numpy(GreedySampler().next_token(logits, seed=None)).tolist()
    [1]
    """

    name = "greedy"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def next_token(self, logits, seed):
        return ops.argmax(logits, axis=-1)


@keras.saving.register_keras_serializable(package="zoo")
class TopKSampler(Sampler):
    """Sample among the `k` most likely tokens, with probability `softmax(logits / T)`.

    Args:
        k: how many of the most likely tokens stay candidates (`k=1` is greedy).
        temperature, seed: see `Sampler`.

    Example:

    >>> TopKSampler(k=10, temperature=0.7, seed=0)
    TopKSampler(temperature=0.7, seed=0, k=10)
    """

    name = "top_k"

    def __init__(self, k=5, **kwargs):
        super().__init__(**kwargs)
        self.k = check_int(
            k, "k", type(self).__name__, hint="Top-k keeps the k most likely tokens; k=1 is greedy."
        )

    def next_token(self, logits, seed):
        if self.temperature == 0:
            return ops.argmax(logits, axis=-1)
        k = min(self.k, logits.shape[-1])
        top_logits, top_indices = ops.top_k(self.scale(logits), k=k, sorted=False)  # (batch, k)
        choice = gumbel_argmax(top_logits, seed)  # (batch,)
        return ops.take_along_axis(top_indices, ops.expand_dims(choice, -1), axis=-1)[:, 0]

    def get_config(self):
        return {**super().get_config(), "k": self.k}


@keras.saving.register_keras_serializable(package="zoo")
class TopPSampler(Sampler):
    """Nucleus sampling: sample among the fewest most-likely tokens whose mass reaches `p`.

    Reference: Holtzman et al., "The Curious Case of Neural Text Degeneration", 2019,
    https://arxiv.org/abs/1904.09751.

    Args:
        p: probability mass kept, in (0, 1]; a tiny `p` keeps one token (greedy).
        k: optional cap on the candidates (sort only the top `k`: faster on large
            vocabularies).
        temperature, seed: see `Sampler`.

    Example:

    >>> TopPSampler(p=0.9, k=50)
    TopPSampler(temperature=1.0, seed=None, p=0.9, k=50)
    """

    name = "top_p"

    def __init__(self, p=0.9, k=None, **kwargs):
        super().__init__(**kwargs)
        ok = isinstance(p, (int, float, np.floating)) and not isinstance(p, bool)
        if not ok or not 0.0 < p <= 1.0:
            raise ValueError(
                f"`p` (top-p mass) must be in (0, 1]. Received: p={p!r}. "
                "Use e.g. p=0.9; a tiny p behaves greedily."
            )
        self.p = float(p)
        self.k = None if k is None else check_int(k, "k", type(self).__name__)

    def next_token(self, logits, seed):
        if self.temperature == 0:
            return ops.argmax(logits, axis=-1)
        vocabulary = logits.shape[-1]
        k = vocabulary if self.k is None else min(self.k, vocabulary)
        sorted_logits, sorted_indices = ops.top_k(self.scale(logits), k=k, sorted=True)
        probabilities = ops.softmax(sorted_logits, axis=-1)  # (batch, k), descending
        mass_before = ops.cumsum(probabilities, axis=-1) - probabilities
        keep = mass_before < self.p  # the first token is always kept
        choice = gumbel_argmax(ops.where(keep, sorted_logits, MASKED_SCORE), seed)
        return ops.take_along_axis(sorted_indices, ops.expand_dims(choice, -1), axis=-1)[:, 0]

    def get_config(self):
        return {**super().get_config(), "p": self.p, "k": self.k}


@keras.saving.register_keras_serializable(package="zoo")
class BeamSampler(Sampler):
    """Beam search: keep the `num_beams` most likely partial sequences at every step.

    Hypotheses that emit `end_token_id` move to a pool of finished ones (scored
    `sum log p / generated_length ** length_penalty`); a row stops when its pool
    holds `num_beams` hypotheses that no live beam can beat any more. The search
    itself is `zoo.models.generation.decoding.beam_loop`.

    Args:
        num_beams: beams per example (1 is greedy when no end token can stop early).
        length_penalty: exponent of the length normalization; 0 ranks by the plain
            sum of log-probabilities (as `keras_hub.samplers.BeamSampler`), > 0 favours
            longer outputs (HF uses 1.0, GNMT-style tuning often 0.6-1.0).
        return_all_beams: return all beams `(batch, num_beams, length)` and their
            scores `(batch, num_beams)`, best first, instead of the best beam.
        temperature: logits are divided by it before the log-softmax (> 0).

    Example:

    >>> BeamSampler(num_beams=4, length_penalty=0.6).get_config()["num_beams"]
    4
    """

    name = "beam"

    def __init__(self, num_beams=4, length_penalty=0.0, return_all_beams=False, **kwargs):
        super().__init__(**kwargs)
        _check_temperature(self.temperature, allow_zero=False)
        self.num_beams = check_int(
            num_beams,
            "num_beams",
            type(self).__name__,
            hint="Use num_beams=1 for greedy-like search.",
        )
        ok = isinstance(length_penalty, (int, float, np.floating)) and not isinstance(
            length_penalty, bool
        )
        if not ok or not math.isfinite(length_penalty):
            raise ValueError(
                f"`length_penalty` must be a finite number. Received: {length_penalty!r}."
            )
        self.length_penalty = float(length_penalty)
        self.return_all_beams = bool(return_all_beams)

    def get_config(self):
        return {
            **super().get_config(),
            "num_beams": self.num_beams,
            "length_penalty": self.length_penalty,
            "return_all_beams": self.return_all_beams,
        }


@keras.saving.register_keras_serializable(package="zoo")
class KerasHubSampler(Sampler):
    """Any other `keras_hub.samplers.Sampler`: its `compute_probabilities` and
    `get_next_token` run inside the zoo loop (TensorFlow backend; it keeps its own
    seed state, so the `seed` argument of `generate` does not apply).

    `get_sampler` wraps such samplers; there is no need to build one by hand.

    Args:
        sampler: the `keras_hub.samplers.Sampler` (or its serialized config).
    """

    name = "keras_hub"

    def __init__(self, sampler):
        if isinstance(sampler, dict):
            sampler = keras.saving.deserialize_keras_object(sampler)
        super().__init__(temperature=getattr(sampler, "temperature", 1.0))
        self.sampler = sampler

    def next_token(self, logits, seed):
        return self.sampler.get_next_token(self.sampler.compute_probabilities(logits))

    def get_config(self):
        return {"sampler": keras.saving.serialize_keras_object(self.sampler)}

    def cache_key(self):
        return ("keras_hub", id(self.sampler))

    def __repr__(self):
        return f"{type(self).__name__}({self.sampler!r})"


_SAMPLERS = {
    "greedy": GreedySampler,
    "top_k": TopKSampler,
    "top_p": TopPSampler,
    "beam": BeamSampler,
}


def get_sampler(
    sampler="greedy",
    temperature=1.0,
    k=5,
    p=0.9,
    num_beams=4,
    length_penalty=0.0,
    return_all_beams=False,
    seed=None,
):
    """A `Sampler` from a name, a sampler object or a serialized sampler.

    Names: `"greedy"`, `"top_k"` (uses `k`), `"top_p"` (uses `p`), `"beam"` (uses
    `num_beams`, `length_penalty`, `return_all_beams`); `temperature` and `seed`
    apply to all. A zoo sampler object is returned as is (its own settings win);
    keras-hub `GreedySampler`, `TopKSampler`, `TopPSampler` and `BeamSampler` become
    the zoo samplers with the same settings, any other keras-hub sampler runs as it is
    (`KerasHubSampler`). A dict is a sampler serialized with
    `keras.saving.serialize_keras_object` (zoo or keras-hub).

    Example:

    >>> get_sampler("top_k", k=3, seed=0)
    TopKSampler(temperature=1.0, seed=0, k=3)
    >>> get_sampler(keras.saving.serialize_keras_object(GreedySampler()))
    GreedySampler(temperature=1.0, seed=None)
    """
    if isinstance(sampler, Sampler):
        return sampler
    if isinstance(sampler, str):
        if sampler not in _SAMPLERS:
            raise ValueError(
                f"Unknown sampler {sampler!r}. Expected one of {sorted(_SAMPLERS)}, a "
                "zoo.models.generation.Sampler or a keras_hub.samplers.Sampler."
            )
        if sampler == "beam":
            return BeamSampler(
                num_beams=num_beams,
                length_penalty=length_penalty,
                return_all_beams=return_all_beams,
                temperature=temperature if temperature > 0 else 1.0,
            )
        extra = {"top_k": {"k": k}, "top_p": {"p": p}}.get(sampler, {})
        return _SAMPLERS[sampler](temperature=temperature, seed=seed, **extra)
    if isinstance(sampler, dict):
        return get_sampler(keras.saving.deserialize_keras_object(sampler))
    try:
        import keras_hub
    except ImportError:  # pragma: no cover
        keras_hub = None
    if keras_hub is not None and isinstance(sampler, keras_hub.samplers.Sampler):
        return _from_keras_hub(sampler, keras_hub.samplers)
    raise ValueError(
        f"`sampler` must be one of {sorted(_SAMPLERS)}, a zoo.models.generation.Sampler or "
        f"a keras_hub.samplers.Sampler. Received: {sampler!r}."
    )


def _from_keras_hub(sampler, hub):
    temperature = getattr(sampler, "temperature", 1.0)
    seed = getattr(sampler, "seed", None)
    if type(sampler) is hub.GreedySampler:
        return GreedySampler(temperature=temperature)
    if type(sampler) is hub.TopKSampler:
        return TopKSampler(k=sampler.k, temperature=temperature, seed=seed)
    if type(sampler) is hub.TopPSampler:
        return TopPSampler(p=sampler.p, k=sampler.k, temperature=temperature, seed=seed)
    if type(sampler) is hub.BeamSampler:
        return BeamSampler(
            num_beams=sampler.num_beams,
            return_all_beams=sampler.return_all_beams,
            temperature=temperature,
        )
    if keras.config.backend() != "tensorflow":
        raise ValueError(
            f"A custom keras_hub sampler ({type(sampler).__name__}) keeps its seed in a "
            "variable and runs in zoo generation on the TensorFlow backend only. Use a "
            "zoo.models.generation.Sampler subclass instead."
        )
    return KerasHubSampler(sampler)
