"""Zoo: a Keras 3 / TensorFlow model zoo for NLP with TPU support.

Subpackages are imported on first use, so `import zoo` is cheap:

- `zoo.text`: preprocessing layers and trainable tokenizers (strings -> ids, in-graph).
- `zoo.data`: the bundled Russian-English corpus, file/TFDS loaders and tf.data pipelines.
- `zoo.layers`, `zoo.models`: Keras layers and models built from them.
"""

import importlib

__version__ = "0.1.0"

_SUBPACKAGES = ("text", "data", "layers", "models", "export", "plots")


def __getattr__(name):
    if name in _SUBPACKAGES:
        module = importlib.import_module(f"zoo.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")
