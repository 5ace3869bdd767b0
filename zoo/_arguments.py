"""Constructor arguments kept as attributes and returned in `get_config`, named once.

A layer or model lists the constructor arguments its config holds in one tuple of names.
In `__init__`, `keep_arguments(self, locals(), names)` sets one attribute per argument,
with the argument's name (DESIGN.md convention 1); `arguments_config(self, names)` gives
them back, in that order, for `get_config`. An argument whose name ends in `_initializer`
is kept as a Keras initializer (`keras.initializers.get`) and serialized in the config
(`keras.initializers.serialize`). `deserialize_entry` turns a nested serialized object of
a config back into the object for `from_config`.
"""

import keras

__all__ = ["arguments_config", "deserialize_entry", "keep_arguments"]


def _is_initializer(name):
    return name.endswith("_initializer")


def keep_arguments(owner, arguments, names):
    """Set `owner.<name>` to `arguments[name]` for each of `names`.

    `arguments` is the constructor's `locals()` once its checks are done, so a checked or
    filled-in value (a default resolved from other arguments) is the one kept.
    """
    for name in names:
        value = arguments[name]
        setattr(owner, name, keras.initializers.get(value) if _is_initializer(name) else value)


def arguments_config(owner, names):
    """`{name: owner.<name>}` for each of `names`, initializers serialized."""
    config = {}
    for name in names:
        value = getattr(owner, name)
        config[name] = keras.initializers.serialize(value) if _is_initializer(name) else value
    return config


def deserialize_entry(config, key):
    """A copy of `config` whose `key`, if it holds a serialized Keras object (a dict), is
    that object again (`keras.saving.deserialize_keras_object`)."""
    config = dict(config)
    if isinstance(config.get(key), dict):
        config[key] = keras.saving.deserialize_keras_object(config[key])
    return config
