"""Megatron-style model-parallel layout maps for `keras.distribution.ModelParallel`.

Each model family has a `layout_map(device_mesh, model_axis="model", batch_axis="batch")`
classmethod (`Bert.layout_map`, `GPT.layout_map`, `Transformer.layout_map`, after
keras-hub's `get_layout_map`) that returns a `keras.distribution.LayoutMap` built here:

- the token embedding matrix `(vocabulary, hidden)` is split over the vocabulary,
  `(model, None)`, and with it the tied output projection that reuses it;
- attention: the query, key and value kernels `(hidden, heads, head_dim)` and their
  biases `(heads, head_dim)` are split over the heads (column-parallel), the output
  kernel `(heads, head_dim, hidden)` over the heads as well (row-parallel), so each
  device attends with its own heads and one all-reduce joins the outputs;
- feed-forward: the first kernel `(hidden, intermediate)` and its bias column-parallel,
  the second kernel `(intermediate, hidden)` row-parallel;
- everything else (LayerNorms, position and segment embeddings, the output biases of
  the row-parallel layers, pooler and task heads) is replicated.

Weights are replicated over the batch axis (model parallelism inside a data-parallel
replica, Shoeybi et al., "Megatron-LM", 2019, https://arxiv.org/abs/1909.08053).

The keys are regular expressions that `LayoutMap` matches against the whole
`variable.path`; a path that matches none is replicated. Each key may be preceded by
any name scope (`(?:.*/)?`), so a model built inside `keras.name_scope` still matches.

Example (one device here; a TPU v2-8 has all 8 as a `(2, 4)` mesh):

>>> import keras
>>> from zoo.models import Bert
>>> devices = keras.distribution.list_devices()[:1]
>>> mesh = keras.distribution.DeviceMesh((1, 1), ("batch", "model"), devices)
>>> layout_map = Bert.layout_map(mesh)
>>> layout_map["transformer_layer_0/self_attention/query/kernel"].axes
(None, 'model', None)
>>> distribution = keras.distribution.ModelParallel(
...     layout_map=layout_map, batch_dim_name="batch")
>>> with distribution.scope():  # under JAX, the variables are made split
...     model = Bert(vocabulary_size=64, num_layers=2, num_heads=4,
...                  hidden_dim=16, intermediate_dim=32)
"""

import re

import keras

__all__ = ["build_layout_map"]

# `SCOPE_PREFIX`, `block_rules`, `token_embedding_rule`, `check_model_parallel`,
# `stack_layout_map` and `check_stack_parallel` are public within `zoo.models`: the models'
# `layout_map` classmethods and constructors use them.

# Any enclosing name scopes ("outer/"), or none.
SCOPE_PREFIX = r"(?:.*/)?"


def build_layout_map(device_mesh, rules, model_axis="model", batch_axis="batch"):
    """A `keras.distribution.LayoutMap` from `(regex, axes)` rules, with checks.

    Checks that `device_mesh` is a `keras.distribution.DeviceMesh` that has
    `model_axis` (and `batch_axis`, unless it is None), that every regex compiles,
    that no regex is given twice and that every axis a rule names is one of the mesh's
    axes, and raises a ValueError that names what was received otherwise. The models'
    `layout_map` classmethods are built on it; use it for a model of your own.

    Args:
        device_mesh: the `keras.distribution.DeviceMesh` to shard over.
        rules: `(regex, axes)` pairs: `regex` is matched (`re.fullmatch`) against
            variable paths such as `"transformer_layer_0/feed_forward/output_dense/kernel"`;
            `axes` is a tuple with one mesh axis name or None per variable dimension.
        model_axis: the mesh axis that weights are split over.
        batch_axis: the mesh axis of data parallelism (weights are replicated over it);
            None for a mesh with the model axis only.

    Returns:
        A `keras.distribution.LayoutMap` on `device_mesh`.

    Example:

    >>> import keras
    >>> mesh = keras.distribution.DeviceMesh(
    ...     (1, 1), ("batch", "model"), keras.distribution.list_devices()[:1])
    >>> layout_map = build_layout_map(mesh, [(r"dense/kernel", (None, "model"))])
    >>> layout_map["dense/kernel"].axes
    (None, 'model')
    """
    _check_mesh(device_mesh, model_axis, batch_axis)
    layout_map = keras.distribution.LayoutMap(device_mesh)
    given = {}
    for regex, axes in rules:
        try:
            re.compile(regex)
        except re.error as error:
            raise ValueError(
                f"Each layout rule starts with a regular expression over variable paths. "
                f"Received: {regex!r}, which does not compile ({error})."
            ) from None
        axes = tuple(axes)
        unknown = [axis for axis in axes if axis is not None and axis not in device_mesh.axis_names]
        if unknown:
            raise ValueError(
                f"The layout rule {regex!r} -> {axes} names mesh axes {unknown} that the device "
                f"mesh does not have. Expected axes from {tuple(device_mesh.axis_names)} or "
                "None (not split)."
            )
        # (`regex in layout_map` would match the regex as a path: use the plain keys.)
        if regex in given:
            raise ValueError(
                f"The layout rule {regex!r} is given twice (received {given[regex]} and "
                f"{axes}). Give each regex once."
            )
        given[regex] = layout_map[regex] = axes
    return layout_map


def _check_mesh(device_mesh, model_axis, batch_axis):
    if not isinstance(device_mesh, keras.distribution.DeviceMesh):
        raise ValueError(
            "A layout map needs a `keras.distribution.DeviceMesh`, e.g. "
            'DeviceMesh((2, 4), ("batch", "model"), devices). '
            f"Received: device_mesh={device_mesh!r}."
        )
    axis_names = tuple(device_mesh.axis_names)
    wanted = {"model_axis": model_axis}
    if batch_axis is not None:
        wanted["batch_axis"] = batch_axis
    missing = {name: axis for name, axis in wanted.items() if axis not in axis_names}
    if missing:
        received = ", ".join(f"{name}={axis!r}" for name, axis in missing.items())
        raise ValueError(
            f"The device mesh must have the axes the layout map shards over: "
            f"{tuple(wanted.values())}. Received: a mesh with axes {axis_names}, and "
            f"{received}. Name the mesh axes accordingly, e.g. DeviceMesh(shape, "
            f'("batch", "model"), devices), or pass model_axis= / batch_axis= with the '
            "mesh's own names (batch_axis=None for a mesh with a model axis only)."
        )
    if model_axis == batch_axis:
        raise ValueError(
            "model_axis and batch_axis must be two different mesh axes. Received: "
            f"model_axis={model_axis!r}, batch_axis={batch_axis!r}."
        )


def block_rules(block, model_axis):
    """Megatron rules for the zoo Transformer blocks whose layer names match `block`.

    A block's attention sub-layers are `self_attention` and, in decoder blocks,
    `cross_attention`; any attention layer storing `query` / `key` / `value` /
    `attention_output` EinsumDense kernels (zoo's `MultiHeadAttention`, the efficient
    variants of `zoo.layers.efficient_attention`, `keras.layers.MultiHeadAttention`) is
    split; other variables of an attention layer (Linformer's `key_projection`,
    Performer's `random_features`, Reformer's `rotations`) are replicated.
    """
    attention = rf"{SCOPE_PREFIX}{block}/(?:self|cross)_attention"
    feed_forward = rf"{SCOPE_PREFIX}{block}/feed_forward"
    return [
        # (hidden, heads, head_dim) and (heads, head_dim): split the heads.
        (rf"{attention}/(?:query|key|value)/kernel", (None, model_axis, None)),
        (rf"{attention}/(?:query|key|value)/bias", (model_axis, None)),
        # (heads, head_dim, hidden): split the heads; its bias (hidden,) is replicated.
        (rf"{attention}/attention_output/kernel", (model_axis, None, None)),
        # (hidden, intermediate) and (intermediate,) column-wise.
        (rf"{feed_forward}/intermediate_dense/kernel", (None, model_axis)),
        (rf"{feed_forward}/intermediate_dense/bias", (model_axis,)),
        # (intermediate, hidden) row-wise; its bias (hidden,) is replicated.
        (rf"{feed_forward}/output_dense/kernel", (model_axis, None)),
    ]


def token_embedding_rule(layer, model_axis):
    """The `(vocabulary, hidden)` matrix of a `TokenAndPositionEmbedding` named `layer`."""
    return (rf"{SCOPE_PREFIX}{layer}/token_embedding/embeddings", (model_axis, None))


def _block_shapes(prefix, hidden_dim, num_heads, intermediate_dim, cross_attention=False):
    """`(path, ((argument, size), ...))` of the split variables of one block, for
    `_check_sharded_sizes`: each dimension with the model argument that sets it."""
    heads, head_dim = ("num_heads", num_heads), ("head_dim", hidden_dim // num_heads)
    hidden, intermediate = ("hidden_dim", hidden_dim), ("intermediate_dim", intermediate_dim)
    shapes = []
    for attention in ("self_attention", "cross_attention")[: 1 + cross_attention]:
        for name in ("query", "key", "value"):
            shapes.append((f"{prefix}/{attention}/{name}/kernel", (hidden, heads, head_dim)))
            shapes.append((f"{prefix}/{attention}/{name}/bias", (heads, head_dim)))
        shapes.append((f"{prefix}/{attention}/attention_output/kernel", (heads, head_dim, hidden)))
    shapes += [
        (f"{prefix}/feed_forward/intermediate_dense/kernel", (hidden, intermediate)),
        (f"{prefix}/feed_forward/intermediate_dense/bias", (intermediate,)),
        (f"{prefix}/feed_forward/output_dense/kernel", (intermediate, hidden)),
    ]
    return shapes


def check_model_parallel(
    owner, vocabularies, blocks, hidden_dim, num_heads, intermediate_dim, extra=()
):
    """`_check_sharded_sizes` for a model of zoo blocks, built at the top level.

    `vocabularies` maps each `TokenAndPositionEmbedding` layer name to the argument
    that sets its vocabulary size and that size, e.g. `{"embeddings": ("vocabulary_size",
    50)}`; `blocks` lists `(block_name, has_cross_attention)`; `extra` holds more
    `(path, ((argument, size), ...))` entries.
    """
    if not isinstance(keras.distribution.distribution(), keras.distribution.ModelParallel):
        return  # the common case: nothing to compute
    hidden = ("hidden_dim", hidden_dim)
    shapes = [
        (f"{layer}/token_embedding/embeddings", (vocabulary, hidden))
        for layer, vocabulary in vocabularies.items()
    ]
    for block, cross_attention in blocks:
        shapes += _block_shapes(block, hidden_dim, num_heads, intermediate_dim, cross_attention)
    _check_sharded_sizes(owner, [*shapes, *extra])


def stack_layout_map(device_mesh, model_axis, batch_axis):
    """The layout map of a model with one stack of blocks, `transformer_layer_<i>`, over a
    `TokenAndPositionEmbedding` named `embeddings` (`Bert`, `GPT`)."""
    rules = [
        token_embedding_rule("embeddings", model_axis),
        *block_rules(r"transformer_layer_\d+", model_axis),
    ]
    return build_layout_map(device_mesh, rules, model_axis, batch_axis)


def check_stack_parallel(owner, vocabulary_size, num_layers, hidden_dim, num_heads, intermediate):
    """`check_model_parallel` for a model laid out as `stack_layout_map` expects."""
    check_model_parallel(
        owner,
        {"embeddings": ("vocabulary_size", vocabulary_size)},
        [(f"transformer_layer_{i}", False) for i in range(num_layers)],
        hidden_dim,
        num_heads,
        intermediate,
    )


def _check_sharded_sizes(owner, shapes):
    """Under `ModelParallel`, a ValueError before the variables are made if a split
    dimension is not divisible by the mesh axes it is split over.

    `shapes` is `[(variable_path, ((argument, size), ...)), ...]`; the layout of each
    path is what the current distribution's layout map gives it (`get_tensor_layout`),
    so this checks any layout map, not only zoo's. Without such a distribution, or for
    paths the map does not split, nothing is checked. (JAX would fail anyway, with an
    `IndivisibleError` that names a shape but neither the variable nor the argument.)
    """
    distribution = keras.distribution.distribution()
    if not isinstance(distribution, keras.distribution.ModelParallel):
        return
    mesh = distribution.device_mesh
    mesh_sizes = dict(zip(mesh.axis_names, mesh.shape))
    for path, dims in shapes:
        layout = distribution.get_tensor_layout(path)
        if layout is None or len(layout.axes) != len(dims):
            continue  # replicated, or not a layout for this variable (JAX explains)
        for axes, (argument, size) in zip(layout.axes, dims):
            names = () if axes is None else (axes,) if isinstance(axes, str) else tuple(axes)
            parts = 1
            for name in names:
                parts *= mesh_sizes.get(name, 1)
            if size % parts:
                multiple = size + parts - size % parts
                raise ValueError(
                    f"{owner} cannot be split by the current ModelParallel layout map: it "
                    f"splits `{path}` over mesh axes {names} ({parts} parts), so "
                    f"{argument} must be divisible by {parts}. Received: {argument}={size} "
                    f"on a mesh {dict(mesh_sizes)}. Use {argument}={multiple} (a vocabulary "
                    "can be padded with unused ids), or a mesh whose model axis divides "
                    f"{argument}."
                )
