"""Zoo recipes: one module per job, run as `python -m recipes <name> [--flags]`.

Each recipe module defines a dataclass `Config` (every field is a command-line flag)
and `main(argv=None)`. Shared pieces live in `recipes.common`.
"""

import importlib
import pkgutil

__all__ = ["available_recipes"]

_NOT_RECIPES = {"common", "export", "training"}


def available_recipes():
    """Names of the recipe modules in this package, sorted."""
    names = []
    for module in pkgutil.iter_modules(__path__):
        if module.name.startswith("_") or module.name in _NOT_RECIPES:
            continue
        names.append(module.name)
    return sorted(names)


def load_recipe(name):
    """The recipe module `recipes.<name>`; ValueError naming the choices if unknown."""
    names = available_recipes()
    if name not in names:
        raise ValueError(
            f"Unknown recipe {name!r}. Available recipes: {', '.join(names) or 'none'}."
        )
    return importlib.import_module(f"recipes.{name}")
