"""`zoo._compat`: each internal still where Zoo imports it from, and each fallback works.

When a TensorFlow, tensorflow-text or Keras upgrade moves an internal,
`test_internal_is_where_zoo_imports_it_from` fails with its module path: update the
loader in `zoo/_compat.py` (the fallback keeps Zoo working meanwhile, with a warning).
"""

import ast
import gc
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_text as tf_text

from zoo import _compat

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Every internal `zoo._compat` wraps: (module, name imported from it, attribute used).
INTERNALS = [
    ("tensorflow.compiler.tf2xla.python", "xla", "optimization_barrier"),
    ("tensorflow.python.ops", "control_flow_util", "GraphOrParentsInXlaContext"),
    ("keras.src.backend.common.symbolic_scope", "in_symbolic_scope", None),
    (
        "tensorflow_text.python.ops.regex_split_ops",
        "gen_regex_split_ops",
        "regex_split_with_offsets",
    ),
    (
        "tensorflow_text.python.ops.sentencepiece_tokenizer",
        "gen_sentencepiece_tokenizer",
        "sentencepiece_op",
    ),
    ("tensorflow.python.tools", "saved_model_cli", "main"),
]
_PRIVATE_PREFIXES = (
    "tensorflow.python",
    "tensorflow.compiler",
    "tensorflow.core",
    "tensorflow.lite",
    "tensorflow_text.python",
    "keras.src",
    "keras_hub.src",
)


def _private_imports(path):
    """(module, name) of every import of a non-public module in the file at `path`."""
    with open(path, encoding="utf-8") as file:
        tree = ast.parse(file.read(), path)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            modules = [(node.module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            modules = [(alias.name, None) for alias in node.names]
        else:
            continue
        for module, name in modules:
            if module.startswith(_PRIVATE_PREFIXES) or "._pywrap" in module:
                found.add((module, name))
    return found


@pytest.mark.parametrize(
    "module, name, attribute",
    INTERNALS,
    ids=[".".join(filter(None, internal)) for internal in INTERNALS],
)
def test_internal_is_where_zoo_imports_it_from(module, name, attribute):
    path = f"{module}.{name}" + (f".{attribute}" if attribute else "")
    try:
        value = getattr(__import__(module, fromlist=[name]), name)  # `from module import name`
        if attribute:
            value = getattr(value, attribute)
    except (ImportError, AttributeError) as error:
        pytest.fail(
            f"{path} moved in this TensorFlow / tensorflow-text / Keras ({error}). "
            "Update its loader in zoo/_compat.py (Zoo is on the fallback meanwhile)."
        )
    assert callable(value), path


def test_every_internal_of_compat_is_checked_here():
    in_compat = _private_imports(os.path.join(ROOT, "zoo", "_compat.py"))
    assert in_compat == {(module, name) for module, name, _ in INTERNALS}


def test_no_module_outside_compat_imports_internals():
    # DESIGN.md: non-public TensorFlow / tensorflow-text / Keras APIs live in zoo/_compat.py.
    offenders = {}
    for top in ("zoo", "recipes", "tpu", "benchmarks"):
        for folder, _, files in os.walk(os.path.join(ROOT, top)):
            for file in files:
                path = os.path.join(folder, file)
                if file.endswith(".py") and path != os.path.join(ROOT, "zoo", "_compat.py"):
                    found = _private_imports(path)
                    if found:
                        offenders[os.path.relpath(path, ROOT)] = sorted(found, key=str)
    assert not offenders, f"import these through zoo/_compat.py instead: {offenders}"


def test_importing_compat_imports_no_tensorflow_or_keras():
    code = (
        "import sys, zoo._compat, zoo.saved_model_cli; "
        "print(sorted({'tensorflow', 'tensorflow_text', 'keras'} & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"


@pytest.fixture
def missing(monkeypatch):
    """Make the loader named `name` fail as if an upgrade had moved its internal."""
    monkeypatch.setattr(_compat, "_loaded", {})

    def remove(name):
        def moved():
            raise ImportError("simulated: an upgrade moved it")

        moved.__doc__ = getattr(_compat, name).__doc__  # the internal's path, for the warning
        monkeypatch.setattr(_compat, name, moved)

    return remove


def _hlo(function, *args):
    return tf.function(function, jit_compile=True).experimental_get_compiler_ir(*args)(stage="hlo")


# XLA optimisation barrier ---------------------------------------------------------------


def test_optimization_barrier_reaches_xla():
    x = tf.constant([[1.0, 2.0]])
    assert "opt-barrier" in _hlo(lambda x: _compat.xla_optimization_barrier(x) * 2.0, x)


def test_optimization_barrier_fallback_is_identity(missing):
    from zoo.layers import cpu_matmul

    missing("_xla_optimization_barrier_op")
    x = tf.constant([[1.0, 2.0]])
    with pytest.warns(RuntimeWarning, match="optimization_barrier"):
        assert _compat.xla_optimization_barrier(x) is x
    rng = np.random.default_rng(0)
    hidden, matrix, upstream = (
        tf.constant(rng.normal(size=shape).astype("float32")) for shape in ((6, 4), (9, 4), (6, 9))
    )

    def step(hidden, matrix):
        with tf.GradientTape() as tape:
            tape.watch([hidden, matrix])
            loss = tf.reduce_sum(cpu_matmul.tied_logits(hidden, matrix, training=True) * upstream)
        return tape.gradient(loss, [hidden, matrix])

    assert "opt-barrier" not in _hlo(step, hidden, matrix)
    hidden_gradient, matrix_gradient = tf.function(step, jit_compile=True)(hidden, matrix)
    np.testing.assert_allclose(hidden_gradient, upstream.numpy() @ matrix.numpy(), atol=1e-5)
    np.testing.assert_allclose(matrix_gradient, upstream.numpy().T @ hidden.numpy(), atol=1e-5)


# XLA trace query -------------------------------------------------------------------------


def _xla_flags():
    seen = []

    def probe(x):
        seen.append(_compat.in_xla_function())
        return x

    x = tf.constant(1.0)
    probe(x)
    tf.function(probe, jit_compile=False)(x)
    tf.function(probe, jit_compile=True)(x)
    return seen  # eager, graph, XLA


def test_in_xla_function_is_true_only_in_xla_traces():
    assert _xla_flags() == [False, False, True]


def test_in_xla_function_fallback_is_false(missing):
    missing("_xla_context_query")
    with pytest.warns(RuntimeWarning, match="GraphOrParentsInXlaContext"):
        assert _xla_flags() == [False, False, False]


# Keras symbolic scope ------------------------------------------------------------------


def _unknown_length_gpt():
    # The functional GPT has token_ids of unknown length; its blocks run their attention
    # symbolically (shape inference), where the length stays unknown.
    from zoo.models.gpt import GPT

    return GPT(100, 1, 2, 16, 32, attention="longformer")


def test_in_symbolic_scope_lets_functional_models_build_with_unknown_lengths():
    from keras.src.backend.common.symbolic_scope import SymbolicScope

    assert not _compat.in_symbolic_scope()
    with SymbolicScope():
        assert _compat.in_symbolic_scope()
    assert tuple(_unknown_length_gpt().outputs[0].shape) == (None, None, 100)


def test_in_symbolic_scope_fallback_is_false_and_unknown_lengths_raise(missing):
    from keras.src.backend.common.symbolic_scope import SymbolicScope

    missing("_symbolic_scope_query")
    with SymbolicScope(), pytest.warns(RuntimeWarning, match="in_symbolic_scope"):
        assert not _compat.in_symbolic_scope()
    with pytest.raises(ValueError, match="static sequence length"):
        _unknown_length_gpt()


# RegexSplitWithOffsets -------------------------------------------------------------------

_TEXTS = tf.constant(["Я изучаю ML, don't stop!", "", "  ", "a\u200bb 12 c", "\ufffd🙂 x"])


@pytest.mark.parametrize("keep", ["", r"[\p{L}\p{M}]+"])
def test_regex_split_matches_tensorflow_text(keep):
    pattern = r"[\p{L}\p{M}]+" if keep else r"\s+"
    got = _compat.regex_split(_TEXTS, pattern, keep)
    expected = tf_text.regex_split(_TEXTS, pattern, keep)
    assert got.to_list() == expected.to_list()


def test_regex_split_fallback_is_tensorflow_text(missing):
    fast = _compat.regex_split(_TEXTS, r"\s+").to_list()
    missing("_regex_split_op")
    with pytest.warns(RuntimeWarning, match="regex_split_with_offsets"):
        assert _compat.regex_split(_TEXTS, r"\s+").to_list() == fast


# SentencePiece model resource ------------------------------------------------------------


@pytest.fixture(scope="module")
def sentencepiece_model():
    from zoo.text.tokenizers import SentencePieceTokenizer

    texts = ["привет мир", "hello world", "я изучаю машинное обучение"] * 3
    return SentencePieceTokenizer.train(texts, 300, verbose=False).proto


_PIECES = tf.constant(["привет world", "", "машинное обучение 🙂"])


def _round_trip(tokenizer):
    ids = tokenizer.tokenize(_PIECES)
    return ids.to_list(), tokenizer.detokenize(ids).numpy().tolist()


def test_sentencepiece_tokenizer_is_the_public_one_on_a_shared_resource(sentencepiece_model):
    with tf.init_scope():
        tokenizer = _compat.sentencepiece_tokenizer(sentencepiece_model)
        public = tf_text.SentencepieceTokenizer(sentencepiece_model, out_type=tf.int32)
    assert isinstance(tokenizer, tf_text.SentencepieceTokenizer)
    assert type(tokenizer) is not tf_text.SentencepieceTokenizer
    # It skips the public constructor: it must set the same attributes.
    assert set(vars(tokenizer)) == set(vars(public))
    before = _round_trip(tokenizer)
    assert before == _round_trip(public)
    # The bug the shared name avoids: destroying one model's kernel took the others' resource.
    with tf.init_scope():
        other = _compat.sentencepiece_tokenizer(sentencepiece_model)
    del other, public
    gc.collect()
    assert _round_trip(tokenizer) == before


def test_sentencepiece_tokenizer_fallback_is_the_public_tokenizer(missing, sentencepiece_model):
    with tf.init_scope():
        expected = _round_trip(_compat.sentencepiece_tokenizer(sentencepiece_model))
    missing("_sentencepiece_model_op")
    with tf.init_scope(), pytest.warns(RuntimeWarning, match="sentencepiece_op"):
        tokenizer = _compat.sentencepiece_tokenizer(sentencepiece_model)
    assert type(tokenizer) is tf_text.SentencepieceTokenizer
    assert _round_trip(tokenizer) == expected


def test_sentencepiece_tokenizer_falls_back_when_model_resource_is_renamed(
    monkeypatch, sentencepiece_model
):
    monkeypatch.setattr(_compat, "_loaded", {})

    def tokenize(self, inputs):  # a tensorflow-text that renamed `_model_resource`
        return self._model.resource_handle

    monkeypatch.setattr(tf_text.SentencepieceTokenizer, "tokenize", tokenize)
    with pytest.warns(RuntimeWarning, match="_model_resource"):
        assert _compat._load(_compat._sentencepiece_model_op, "the fallback") is None


# saved_model_cli -------------------------------------------------------------------------


def test_saved_model_cli_main_is_tensorflows():
    from tensorflow.python.tools import saved_model_cli

    assert _compat.saved_model_cli_main() is saved_model_cli.main


def test_saved_model_cli_fallback_is_the_console_script(missing, monkeypatch):
    from tensorflow.python.tools import saved_model_cli

    missing("_saved_model_cli_main")
    with pytest.warns(RuntimeWarning, match="saved_model_cli"):
        assert _compat.saved_model_cli_main() is saved_model_cli.main
    monkeypatch.setattr("importlib.metadata.entry_points", lambda **_: [])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(ImportError, match="saved_model_cli"):
            _compat.saved_model_cli_main()


def test_saved_model_cli_command_shows_a_saved_model(tmp_path):
    module = tf.Module()
    module.double = tf.function(
        lambda text: {"words": tf_text.regex_split(text, r"\s+").flat_values},
        input_signature=[tf.TensorSpec([None], tf.string)],
    )
    tf.saved_model.save(module, str(tmp_path), signatures={"split": module.double})
    result = subprocess.run(
        [sys.executable, "-m", "zoo.saved_model_cli", "show", "--dir", str(tmp_path), "--all"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "signature_def['split']" in result.stdout


# Private attributes of Keras and keras-hub objects ------------------------------------

# (class path, attribute) of every private attribute `zoo._compat` reads.
PRIVATE_ATTRIBUTES = [
    ("keras.layers.Layer", "_flatten_layers"),
    ("keras.layers.Layer", "_untrack_variable"),
]


@pytest.mark.parametrize("owner, attribute", PRIVATE_ATTRIBUTES)
def test_private_attribute_is_where_zoo_reads_it(owner, attribute):
    module, name = owner.rsplit(".", 1)
    cls = getattr(__import__(module, fromlist=[name]), name)
    assert callable(getattr(cls, attribute, None)), (
        f"{owner}.{attribute} is gone in this Keras: update zoo/_compat.py "
        "(Zoo is on the fallback meanwhile)."
    )


def test_keras_hub_blocks_keep_their_sublayers_where_zoo_reads_them():
    import keras_hub

    _compat._loaded.pop(_compat._keras_hub_block_attributes, None)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no fallback taken
        attributes = _compat._load(_compat._keras_hub_block_attributes, "the fallback")
    block = keras_hub.layers.TransformerEncoder(8, 2)
    block.build((None, 3, 4))
    layers = _compat.keras_hub_block_layers(block)
    assert set(layers) == set(_compat.KERAS_HUB_BLOCK_LAYERS)
    for name, layer in layers.items():
        assert layer is getattr(block, attributes[name]) and layer.name == name


def test_keras_hub_block_layers_fallback_finds_them_by_name(missing):
    import keras_hub

    block = keras_hub.layers.TransformerDecoder(8, 2)
    block.build((None, 3, 4))
    expected = _compat.keras_hub_block_layers(block)
    missing("_keras_hub_block_attributes")
    with pytest.warns(RuntimeWarning, match="_self_attention_layer"):
        assert _compat.keras_hub_block_layers(block) == expected


def test_keras_hub_block_attributes_check_fails_when_keras_hub_renames_one(monkeypatch):
    import keras_hub

    def build(self, inputs_shape):  # a keras-hub that renamed `_feedforward_layer_norm`
        self._self_attention_layer = self._self_attention_layer_norm = None
        self._feedforward_intermediate_dense = self._feedforward_output_dense = None

    monkeypatch.setattr(keras_hub.layers.TransformerEncoder, "build", build)
    monkeypatch.setattr(_compat, "_loaded", {})
    with pytest.warns(RuntimeWarning, match="_feedforward_layer_norm"):
        assert _compat._load(_compat._keras_hub_block_attributes, "the fallback") is None


def test_sublayers_and_its_fallback_find_the_same_layers(missing):
    import keras

    from zoo.models.gpt import GPT

    model = GPT(50, 2, 2, 8, 16, max_sequence_length=8)  # what enable_lora walks
    walked = _compat.sublayers(model)
    assert len({id(layer) for layer in walked}) == len(walked) > 10
    assert all(isinstance(layer, keras.layers.Layer) for layer in walked)
    assert model not in walked
    missing("_flatten_layers_method")
    with pytest.warns(RuntimeWarning, match="_flatten_layers"):
        fallback = _compat.sublayers(model)
    assert {id(layer) for layer in fallback} == {id(layer) for layer in walked}


@pytest.mark.parametrize("moved", [False, True])
def test_drop_variable_untracks_it(missing, moved):
    import keras

    layer = keras.layers.Dense(3)
    layer.build((None, 2))
    layer.enable_lora(2)  # as merge_lora drops them
    assert len(layer.weights) == 4
    if moved:
        missing("_untrack_variable_method")
        with pytest.warns(RuntimeWarning, match="_untrack_variable"):
            _compat.drop_variable(layer, "lora_kernel_a")
    else:
        _compat.drop_variable(layer, "lora_kernel_a")
    assert "lora_kernel_a" not in vars(layer)
    assert [v.name for v in layer.weights] == ["kernel", "bias", "lora_kernel_b"]


def test_keras_models_still_have_the_default_save_signature_zoo_overrides():
    import keras

    from zoo._compat import DEFAULT_SAVE_SIGNATURE, keras_model_class_without_save_signature

    assert DEFAULT_SAVE_SIGNATURE in dir(keras.Model), (
        f"keras.Model.{DEFAULT_SAVE_SIGNATURE} is gone in this Keras: update zoo/_compat.py "
        "(efficient-attention exports may fail meanwhile)."
    )
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    unsigned = keras_model_class_without_save_signature(type(model))
    assert unsigned is keras_model_class_without_save_signature(type(model))
    assert issubclass(unsigned, type(model)) and unsigned.__name__ == type(model).__name__
    assert getattr(model, DEFAULT_SAVE_SIGNATURE) is not None
    object.__setattr__(model, "__class__", unsigned)
    assert getattr(model, DEFAULT_SAVE_SIGNATURE) is None
