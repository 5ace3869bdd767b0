"""TensorFlow's `saved_model_cli` with the tensorflow-text ops registered.

Zoo's SavedModels tokenize inside the graph with tensorflow-text ops (SentencePiece,
FastWordpiece, regex split). The stock `saved_model_cli` does not import
`tensorflow_text`, so `saved_model_cli run` on a Zoo export stops with "Op type not
registered 'SentencepieceOp'". This command is the same tool, with the ops loaded first;
it takes the same arguments:

    python -m zoo.saved_model_cli show --dir runs/translation/saved_model --all
    python -m zoo.saved_model_cli run --dir runs/translation/saved_model --tag_set serve \\
        --signature_def translate --input_exprs 'text=["Я изучаю машинное обучение."]'

`show` needs no ops and works with the stock tool as well.
"""

import sys

from zoo._compat import saved_model_cli_main


def main(argv=None):
    import tensorflow_text  # noqa: F401  (registers the ops the exported graphs use)

    tool = saved_model_cli_main()
    sys.argv = ["saved_model_cli", *(sys.argv[1:] if argv is None else argv)]
    tool()


if __name__ == "__main__":
    main()
