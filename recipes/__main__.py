"""`python -m recipes <name> [--flags]`: run a recipe; `python -m recipes --help` lists them."""

import sys

from recipes import available_recipes, load_recipe


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    names = available_recipes()
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: python -m recipes <name> [--flags]   (python -m recipes <name> --help)")
        print("recipes: " + ", ".join(names))
        return 0 if argv else 2
    try:
        recipe = load_recipe(argv[0])
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    return recipe.main(argv[1:]) or 0


if __name__ == "__main__":
    sys.exit(main())
