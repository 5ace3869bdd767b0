"""`zoo.data`'s lazy names: public names of its submodules, reachable from `zoo.data`."""

import importlib

import pytest

import zoo.data


@pytest.mark.parametrize("module", sorted(zoo.data._EXPORTS))
def test_lazy_names_are_public_names_of_their_module(module):
    imported = importlib.import_module(f"zoo.data.{module}")
    assert set(zoo.data._EXPORTS[module]) <= set(imported.__all__)
    for name in zoo.data._EXPORTS[module]:
        assert getattr(zoo.data, name) is getattr(imported, name)


def test_unknown_names_raise_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        zoo.data.nothing  # noqa: B018
