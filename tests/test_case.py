"""Shared checks for zoo layers and models (DESIGN.md, convention 9).

`run_layer_test` checks, for one layer class and one input:
- the config round trip (`from_config(get_config())` gives the same config, and
  `keras.saving` serializes and deserializes the layer);
- trainable / non-trainable weight counts, when given;
- an eager call and a symbolic call (`keras.Input` -> functional model) with the
  expected output shape;
- one `fit` step of a model holding the layer with `jit_compile=True` (XLA), that
  changes the trainable weights;
- the `mixed_bfloat16` policy: variables stay float32, float outputs are bfloat16.

`run_saving_test` saves a model as `.keras`, loads it back and checks equal outputs.
`REPO_ROOT` is the checkout, for tests that start Python in a subprocess;
`start_process` / `finish_process` run one in the background and fail the test with the
end of its output unless it exits 0;
`load_benchmark(name)` imports the script `benchmarks/<name>.py` as a module.
`tiny_model(cls, vocabulary_size, seed)` builds the small Bert / GPT / Transformer (sizes
`TINY`) the model, export, plot, generation and long-input tests share; `random_ids`,
`random_normal` and `xla_compile` are their inputs and their compiled calls.

String-in layers (preprocessing, tokenizers) use the same function with
`run_training_check=False, run_precision_check=False`.
"""

import importlib.util
import os
import subprocess
import sys
import tempfile

import keras
import numpy as np
import tensorflow as tf

__all__ = [
    "REPO_ROOT",
    "TINY",
    "assert_all_close",
    "finish_process",
    "load_benchmark",
    "random_ids",
    "random_normal",
    "run_layer_test",
    "run_saving_test",
    "start_process",
    "tiny_model",
    "to_numpy",
    "xla_compile",
]

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The tests' small models: one layer, two heads of 8, sequences of 16.
TINY = dict(num_layers=1, num_heads=2, hidden_dim=16, intermediate_dim=32, max_sequence_length=16)


def tiny_model(cls, vocabulary_size, seed=0, **overrides):
    """A small `cls` (`Bert`, `GPT`, `Transformer`) with `TINY`'s sizes, where `overrides`
    replace any of them. With `seed` (not None) the weights come after
    `keras.utils.set_random_seed(seed)`, so they are the same on every run.

    >>> model = tiny_model(GPT, 100, seed=0, num_layers=2)  # doctest: +SKIP
    """
    if seed is not None:
        keras.utils.set_random_seed(seed)
    return cls(vocabulary_size=vocabulary_size, **{**TINY, **overrides})


def random_normal(*shape, seed=0):
    """A float32 array of `shape` drawn from N(0, 1) with numpy's generator `seed`."""
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def xla_compile(function):
    """`function` compiled with XLA by the current backend (as a decoding loop would be)."""
    if keras.backend.backend() == "tensorflow":
        return tf.function(function, jit_compile=True)
    if keras.backend.backend() == "jax":
        import jax

        return jax.jit(function)
    return function


def random_ids(rng, vocabulary_size, length, lengths):
    """Right-padded random token ids of the given `lengths` (ids from 7 up, past the special
    tokens), as `(token_ids, padding_mask)` int32 arrays of shape `(len(lengths), length)`."""
    mask = np.arange(length)[None] < np.array(lengths)[:, None]
    token_ids = rng.integers(7, vocabulary_size, (len(lengths), length)) * mask
    return token_ids.astype("int32"), mask.astype("int32")


def jax_environment(devices=None):
    """The environment of a JAX-backend subprocess on the CPU: Keras on JAX, this checkout
    importable, and `devices` simulated host devices (the shape of a TPU host) if given."""
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu", CUDA_VISIBLE_DEVICES="")
    if devices:
        env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [REPO_ROOT, env.get("PYTHONPATH")]))
    return env


def run_jax(script, *arguments, devices=None, timeout=600):
    """Run `python -c script *arguments` under the JAX backend (see `jax_environment`);
    fails the test with the end of its stderr unless it exits 0. Returns its stdout."""
    completed = subprocess.run(
        [sys.executable, "-c", script, *map(str, arguments)],
        env=jax_environment(devices),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    return completed.stdout


def start_process(command, env=None):
    """Start `command` (a list) in the background, its stderr merged into its text stdout;
    `finish_process` waits for it. `env`: the whole environment (None: this one)."""
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def finish_process(process, timeout=300, tail=3000):
    """Wait for a `start_process` run; fails the test with the last `tail` characters of
    its output unless it exits 0. Returns its output."""
    output, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, output[-tail:]
    return output


def load_benchmark(name):
    """The script `benchmarks/<name>.py` as a module, `sys.path` and `os.environ` left as
    they were (the scripts put the repository root first and set defaults for TensorFlow,
    which the other tests' subprocesses would inherit)."""
    path, environ = list(sys.path), dict(os.environ)
    spec = importlib.util.spec_from_file_location(
        f"{name}_benchmark", os.path.join(REPO_ROOT, "benchmarks", f"{name}.py")
    )
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = path
        os.environ.clear()
        os.environ.update(environ)
    return module


def to_numpy(x):
    """Numpy view of a tensor, ragged tensor or nested structure of them."""
    if isinstance(x, dict):
        return {key: to_numpy(value) for key, value in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(to_numpy(value) for value in x)
    if isinstance(x, tf.RaggedTensor):
        return x.to_list()
    return keras.ops.convert_to_numpy(x)


def assert_all_close(actual, expected, atol=1e-6, rtol=1e-6, msg=None):
    """Structure-aware `np.testing.assert_allclose` (exact for strings and ints)."""
    actual, expected = to_numpy(actual), to_numpy(expected)
    if isinstance(expected, dict):
        assert set(actual) == set(expected), f"keys differ: {set(actual)} vs {set(expected)}"
        for key in expected:
            assert_all_close(actual[key], expected[key], atol, rtol, msg=f"key {key!r}")
        return
    if isinstance(expected, (list, tuple)) and not _is_leaf_list(expected):
        assert len(actual) == len(expected), f"lengths differ: {len(actual)} vs {len(expected)}"
        for a, e in zip(actual, expected):
            assert_all_close(a, e, atol, rtol, msg)
        return
    if isinstance(expected, (list, tuple)) and _is_ragged_list(expected):
        assert isinstance(actual, (list, tuple)) and len(actual) == len(expected), (
            f"lengths differ: {actual!r} vs {expected!r}"
        )
        for a, e in zip(actual, expected):
            assert_all_close(a, e, atol, rtol, msg)
        return
    actual_array, expected_array = np.asarray(actual), np.asarray(expected)
    if actual_array.dtype.kind in "OSUib" or expected_array.dtype.kind in "OSUib":
        np.testing.assert_array_equal(actual_array, expected_array, err_msg=msg or "")
    else:
        np.testing.assert_allclose(
            actual_array.astype("float64"),
            expected_array.astype("float64"),
            atol=atol,
            rtol=rtol,
            err_msg=msg or "",
        )


def _is_ragged_list(value):
    """A list of lists whose rows differ in length (as `RaggedTensor.to_list()` gives)."""
    rows = [len(v) for v in value if isinstance(v, (list, tuple))]
    return len(rows) == len(value) and len(set(rows)) > 1


def _is_leaf_list(value):
    """A (nested) list of scalars, as `RaggedTensor.to_list()` returns."""
    if isinstance(value, (list, tuple)):
        return all(_is_leaf_list(v) for v in value)
    return not isinstance(value, (dict, np.ndarray)) and not tf.is_tensor(value)


def _shape_of(x):
    return tuple(x.shape) if hasattr(x, "shape") else None


def _map_structure(fn, structure):
    return tf.nest.map_structure(fn, structure)


def _symbolic_inputs(input_data):
    """`keras.Input`s with the batch dimension left free, matching `input_data`."""

    def make(x):
        x = tf.convert_to_tensor(x) if not isinstance(x, tf.RaggedTensor) else x
        shape = tuple(x.shape[1:])
        dtype = x.dtype.name if hasattr(x.dtype, "name") else str(x.dtype)
        return keras.Input(shape=shape, dtype=dtype, ragged=isinstance(x, tf.RaggedTensor))

    return _map_structure(make, input_data)


def _is_shape(value):
    """A single shape: a tuple/list of ints and Nones (not a structure of shapes)."""
    return isinstance(value, (tuple, list)) and all(d is None or isinstance(d, int) for d in value)


def _flatten_shapes(structure):
    """Flatten a shape, a dict of shapes or a tuple/list of shapes into [(name, shape)]."""
    if _is_shape(structure):
        return [("output", tuple(structure))]
    if isinstance(structure, dict):
        return [(f"output {key!r}", tuple(shape)) for key, shape in sorted(structure.items())]
    return [(f"output {index}", tuple(shape)) for index, shape in enumerate(structure)]


def _flatten_outputs(output, expected_output_shape):
    if _is_shape(expected_output_shape):
        return [output]
    if isinstance(expected_output_shape, dict):
        return [output[key] for key in sorted(expected_output_shape)]
    assert isinstance(output, (tuple, list)) and len(output) == len(expected_output_shape), (
        f"expected {len(expected_output_shape)} outputs, received {type(output).__name__}"
    )
    return list(output)


def _check_shapes(output, expected_output_shape, symbolic=False):
    """Check output shapes; `symbolic` leaves the batch dimension free."""
    if expected_output_shape is None:
        return
    outputs = _flatten_outputs(output, expected_output_shape)
    for tensor, (name, shape) in zip(outputs, _flatten_shapes(expected_output_shape)):
        actual = _shape_of(tensor)
        if symbolic:
            _assert_compatible(actual, (None, *shape[1:]), name)
        else:
            assert actual == shape, f"{name} shape {actual}, expected {shape}"


def _is_float(x):
    return keras.backend.is_float_dtype(keras.backend.standardize_dtype(x.dtype))


def run_layer_test(
    layer_cls,
    init_kwargs,
    input_data,
    expected_output_shape=None,
    expected_output=None,
    expected_num_trainable_weights=None,
    expected_num_non_trainable_weights=None,
    call_kwargs=None,
    run_symbolic_check=True,
    run_training_check=True,
    run_precision_check=True,
    atol=1e-6,
):
    """Run the shared checks on `layer_cls(**init_kwargs)` called on `input_data`.

    Args:
        layer_cls: the layer class.
        init_kwargs: dict of constructor arguments.
        input_data: a tensor (or dict/list of tensors) the layer is called on. For
            several positional inputs pass a list and the layer is called as
            `layer(*input_data)`; pass a dict to call as `layer(input_data)`.
        expected_output_shape: the eager output shape: a tuple, or a dict / tuple of
            shapes for layers with several outputs.
        expected_output: values the eager output must equal (within `atol`).
        expected_num_trainable_weights / expected_num_non_trainable_weights: counts
            of weight tensors (not parameters) after the first call.
        call_kwargs: extra keyword arguments of `call` (e.g. `training=False`).
        run_symbolic_check: call on `keras.Input`s inside a functional model.
        run_training_check: one XLA-compiled `fit` step that moves the weights.
        run_precision_check: build under `mixed_bfloat16` and check dtypes.
        atol: tolerance for `expected_output` and for the eager/symbolic match.

    Returns:
        The eager output of the float32 layer, for further checks.
    """
    call_kwargs = dict(call_kwargs or {})
    positional = isinstance(input_data, list)

    def call(layer, data, **kwargs):
        return layer(*data, **kwargs) if positional else layer(data, **kwargs)

    # Config round trip.
    layer = layer_cls(**init_kwargs)
    config = layer.get_config()
    for key in init_kwargs:
        assert key in config, f"get_config() of {layer_cls.__name__} lacks argument {key!r}"
    revived = layer_cls.from_config(config)
    assert revived.get_config() == config, "from_config(get_config()) changed the config"
    serialized = keras.saving.serialize_keras_object(layer)
    deserialized = keras.saving.deserialize_keras_object(serialized)
    assert type(deserialized) is layer_cls, (
        f"deserialized to {type(deserialized).__name__}; is {layer_cls.__name__} registered "
        "with @keras.saving.register_keras_serializable(package='zoo')?"
    )

    # Eager call, shapes, values and weight counts.
    output = call(layer, input_data, **call_kwargs)
    _check_shapes(output, expected_output_shape)
    if expected_output is not None:
        assert_all_close(output, expected_output, atol=atol, rtol=atol)
    if expected_num_trainable_weights is not None:
        assert len(layer.trainable_weights) == expected_num_trainable_weights, (
            f"{len(layer.trainable_weights)} trainable weights, "
            f"expected {expected_num_trainable_weights}"
        )
    if expected_num_non_trainable_weights is not None:
        assert len(layer.non_trainable_weights) == expected_num_non_trainable_weights, (
            f"{len(layer.non_trainable_weights)} non-trainable weights, "
            f"expected {expected_num_non_trainable_weights}"
        )

    # A revived layer with copied weights computes the same thing.
    if layer.weights:
        call(revived, input_data, **call_kwargs)
        revived.set_weights(layer.get_weights())
        assert_all_close(call(revived, input_data, **call_kwargs), output, atol=atol, rtol=atol)

    # Symbolic call inside a functional model.
    if run_symbolic_check:
        symbolic_layer = layer_cls(**init_kwargs)
        inputs = _symbolic_inputs(input_data)
        symbolic_output = call(symbolic_layer, inputs, **call_kwargs)
        _check_shapes(symbolic_output, expected_output_shape, symbolic=True)
        model = keras.Model(inputs, symbolic_output)
        model_output = model(input_data)
        _check_shapes(model_output, expected_output_shape)

    # One XLA-compiled training step moves the trainable weights.
    if run_training_check and layer.trainable_weights:
        _training_check(layer_cls, init_kwargs, input_data, call_kwargs, positional)

    # Mixed precision: float32 variables, bfloat16 compute.
    if run_precision_check:
        mixed = layer_cls(**{**init_kwargs, "dtype": "mixed_bfloat16"})
        mixed_output = call(mixed, input_data, **call_kwargs)
        for weight in mixed.weights:
            if _is_float(weight):
                assert keras.backend.standardize_dtype(weight.dtype) == "float32", (
                    f"weight {weight.path} is {weight.dtype} under mixed_bfloat16; "
                    "variables must stay float32"
                )
        for tensor in tf.nest.flatten(mixed_output):
            if _is_float(tensor):
                assert keras.backend.standardize_dtype(tensor.dtype) == "bfloat16", (
                    f"output dtype {tensor.dtype} under mixed_bfloat16, expected bfloat16"
                )
    return output


def _assert_compatible(actual, expected, name):
    assert actual is not None and len(actual) == len(expected), (
        f"symbolic {name} shape {actual}, expected {expected}"
    )
    for a, e in zip(actual, expected):
        assert e is None or a is None or a == e, (
            f"symbolic {name} shape {actual}, expected {expected}"
        )


def _training_check(layer_cls, init_kwargs, input_data, call_kwargs, positional):
    layer = layer_cls(**init_kwargs)
    inputs = _symbolic_inputs(input_data)
    outputs = layer(*inputs, **call_kwargs) if positional else layer(inputs, **call_kwargs)
    float_outputs = [t for t in tf.nest.flatten(outputs) if _is_float(t)]
    assert float_outputs, "training check needs a float output; pass run_training_check=False"
    # Sum the float outputs into one scalar per example so any output structure trains.
    total = None
    for tensor in float_outputs:
        tensor = keras.ops.cast(tensor, "float32")
        axes = tuple(range(1, len(tensor.shape)))
        reduced = keras.ops.sum(tensor, axis=axes) if axes else tensor
        total = reduced if total is None else total + reduced
    model = keras.Model(inputs, total)
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse", jit_compile=True)
    before = [keras.ops.convert_to_numpy(w) for w in layer.trainable_weights]
    batch_size = int(tf.nest.flatten(input_data)[0].shape[0])
    targets = np.ones((batch_size,), "float32")
    x = tuple(input_data) if positional else input_data
    history = model.fit(x, targets, batch_size=batch_size, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0]), "training loss is not finite"
    after = [keras.ops.convert_to_numpy(w) for w in layer.trainable_weights]
    assert any(not np.allclose(b, a) for b, a in zip(before, after)), (
        "one XLA fit step changed no trainable weight"
    )


def run_saving_test(model, input_data, atol=1e-6, call_kwargs=None):
    """Save `model` as `.keras`, load it back and check the outputs are equal.

    Returns the loaded model.
    """
    call_kwargs = dict(call_kwargs or {})
    expected = model(input_data, **call_kwargs)
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "model.keras")
        model.save(path)
        loaded = keras.saving.load_model(path)
    assert type(loaded) is type(model), (
        f"loaded {type(loaded).__name__}, saved {type(model).__name__}"
    )
    assert_all_close(loaded(input_data, **call_kwargs), expected, atol=atol, rtol=atol)
    return loaded
