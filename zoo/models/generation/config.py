"""`GenerationConfig`: every setting of a generation call in one frozen dataclass."""

import dataclasses
import inspect

import keras

from zoo._checks import check_int, is_int
from zoo.models.generation.samplers import get_sampler

__all__ = ["GenerationConfig"]

_OWNER = "GenerationConfig"
# The fields that describe the sampler: every argument of `get_sampler`, by its name.
_SAMPLER_FIELDS = tuple(inspect.signature(get_sampler).parameters)


def _check_token_id(value, name, optional=False):
    if value is None and optional:
        return None
    if not is_int(value) or value < 0:
        raise ValueError(
            f"`{name}` must be a non-negative int token id"
            f"{' or None' if optional else ''}. Received: {name}={value!r}."
        )
    return int(value)


def _check_token_ids(values, name="suppressed_token_ids"):
    """`values` (ids, or one id) as a sorted tuple of distinct non-negative ints."""
    if is_int(values):
        values = (values,)
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise ValueError(
            f"`{name}` must be a list of non-negative int token ids. Received: {name}={values!r}."
        )
    return tuple(sorted({_check_token_id(value, name) for value in values}))


@dataclasses.dataclass(frozen=True)
class GenerationConfig:
    """How to generate: the sampler, the lengths, the special tokens and the compilation.

    One object replaces the long keyword lists of `generate`, `translate`, `Generator`
    and `Seq2SeqGenerator`; each of them also takes the fields as keyword arguments,
    which override the config's (`generate(gpt, ids, config=config, seed=1)`). The
    fields are checked when the config is built, so a bad value fails before any
    model runs. Change one with `config.replace(field=value)`; store one with
    `get_config()` (a JSON-able dict, the sampler serialized) and `from_config()`.

    Args:
        sampler: `"greedy"`, `"top_k"`, `"top_p"`, `"beam"`, a `Sampler` (its own
            settings win over `temperature`, `k`, `p`, ...), a `keras_hub.samplers`
            sampler, or a serialized sampler (dict).
        temperature: logits are divided by it before sampling; `0` is greedy.
        k: candidates of `"top_k"`.
        p: probability mass of `"top_p"`, in (0, 1].
        num_beams: beams of `"beam"`.
        length_penalty: exponent of the beam length normalization (0: plain sum of
            log-probabilities).
        return_all_beams: beam search returns every beam and its score, best first.
        max_new_tokens: new tokens per example of decoder-only generation (`generate`,
            `Generator`).
        max_length: decoder output length including the BOS token of encoder-decoder
            generation (`translate`, `Seq2SeqGenerator`), >= 2.
        bos_token_id: the first decoder token of encoder-decoder generation.
        end_token_id: a row stops when it emits this id (None: never); later
            positions are `pad_token_id`.
        pad_token_id: fills each row past its end.
        suppressed_token_ids: ids never generated: their logits are set to a large
            negative number before each pick (Marian never emits its pad id, which is
            also its decoder start id: Hugging Face's `bad_words_ids`). Default none.
        seed: int seed of the random samplers (None: the sampler's own seed, else a
            new random one per call); the same seed gives the same samples.
        use_cache: `False` re-runs the whole model every step (the slow reference).
        jit_compile: compile the decoding loop with XLA.
        run_eagerly: no compilation at all (debugging, quick tests).

    Example:

    >>> config = GenerationConfig(sampler="top_p", p=0.9, max_new_tokens=16, seed=0)
    >>> config.build_sampler()
    TopPSampler(temperature=1.0, seed=0, p=0.9, k=None)
    >>> config.replace(sampler="beam", num_beams=2).build_sampler().num_beams
    2
    >>> GenerationConfig.from_config(config.get_config()) == config
    True
    >>> # tokens = generate(gpt, prompt_ids, config=config)
    >>> # tokens = generate(gpt, prompt_ids, config=config, seed=1)  # one field changed
    >>> # generator = Generator(gpt, config)  # compiled once, called many times
    """

    sampler: object = "greedy"
    temperature: float = 1.0
    k: int = 5
    p: float = 0.9
    num_beams: int = 4
    length_penalty: float = 0.0
    return_all_beams: bool = False
    max_new_tokens: int = 32
    max_length: int = 32
    bos_token_id: int = 1
    end_token_id: object = None
    pad_token_id: int = 0
    suppressed_token_ids: tuple = ()
    seed: object = None
    use_cache: bool = True
    jit_compile: bool = True
    run_eagerly: bool = False

    def __post_init__(self):
        def set_(name, value):
            object.__setattr__(self, name, value)

        if isinstance(self.sampler, dict):
            set_("sampler", get_sampler(self.sampler))
        set_("max_new_tokens", check_int(self.max_new_tokens, "max_new_tokens", _OWNER))
        set_(
            "max_length",
            check_int(
                self.max_length,
                "max_length",
                _OWNER,
                minimum=2,
                hint="It counts the BOS token plus at least one new token.",
            ),
        )
        set_("bos_token_id", _check_token_id(self.bos_token_id, "bos_token_id"))
        set_("end_token_id", _check_token_id(self.end_token_id, "end_token_id", optional=True))
        set_("pad_token_id", _check_token_id(self.pad_token_id, "pad_token_id"))
        set_("suppressed_token_ids", _check_token_ids(self.suppressed_token_ids))
        if self.seed is not None and not is_int(self.seed):
            raise ValueError(f"`seed` must be an int or None. Received: seed={self.seed!r}.")
        for name in ("use_cache", "jit_compile", "run_eagerly"):
            set_(name, bool(getattr(self, name)))
        self.build_sampler()  # checks the sampler's own settings (k, p, temperature, ...)

    def build_sampler(self):
        """The `Sampler` these settings describe: `get_sampler` of the fields named as its
        arguments (`sampler`, `temperature`, `k`, `p`, `num_beams`, ..., `seed`)."""
        return get_sampler(**{name: getattr(self, name) for name in _SAMPLER_FIELDS})

    def replace(self, **changes):
        """A copy with `changes` applied (and checked); unknown names raise `TypeError`."""
        unknown = sorted(set(changes) - {field.name for field in dataclasses.fields(self)})
        if unknown:
            raise TypeError(
                f"Unknown generation option(s) {unknown}. Expected GenerationConfig fields: "
                f"{[field.name for field in dataclasses.fields(self)]}."
            )
        return dataclasses.replace(self, **changes) if changes else self

    def get_config(self):
        """The fields as a dict; a sampler object is serialized (`keras.saving`)."""
        config = {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}
        config["suppressed_token_ids"] = list(self.suppressed_token_ids)
        if not isinstance(self.sampler, str):
            config["sampler"] = keras.saving.serialize_keras_object(self.sampler)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)
