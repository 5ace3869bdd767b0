"""Models built from `zoo.layers`: Transformer, BERT, GPT, Word2Vec, and generation.

- `Transformer` (encoder-decoder, translation); its training recipe:
  `TransformerSchedule`, `transformer_optimizer` (from `zoo.optimizers`, where every
  learning-rate schedule lives) and `LabelSmoothedCrossEntropy` (`zoo.models.losses`).
- `Bert` (backbone), `BertPretrainer` (MLM + NSP), `BertClassifier`, `BertTokenClassifier`,
  `BertMaskedLMHead`.
- `GPT` (decoder-only).
- `Word2Vec` (skip-gram / CBOW with negative sampling).
- Generation: `generate` (GPT), `translate` (Transformer), `Generator`,
  `Seq2SeqGenerator`, `GenerationConfig`, samplers (greedy, top-k, top-p, beam).

`Bert.from_keras_hub(backbone)` and `GPT.from_keras_hub(backbone)` copy keras-hub weights.
`Bert.layout_map(mesh)`, `GPT.layout_map(mesh)` and `Transformer.layout_map(mesh)` give
Megatron-style `keras.distribution.LayoutMap`s for `ModelParallel` under JAX;
`build_layout_map(mesh, rules)` builds one, with the same checks, for other models.

The functional model base and the helpers the models share are in `zoo.models.backbone`.
"""

from zoo.models.bert import (
    Bert,
    BertClassifier,
    BertMaskedLMHead,
    BertPretrainer,
    BertTokenClassifier,
)
from zoo.models.generation import (
    BeamSampler,
    GenerationConfig,
    Generator,
    GreedySampler,
    Sampler,
    Seq2SeqGenerator,
    TopKSampler,
    TopPSampler,
    generate,
    generate_seq2seq,
    get_sampler,
    translate,
)
from zoo.models.gpt import GPT
from zoo.models.layout import build_layout_map
from zoo.models.losses import LabelSmoothedCrossEntropy
from zoo.models.transformer import Transformer
from zoo.models.word2vec import Word2Vec
from zoo.optimizers import TransformerSchedule, transformer_optimizer

__all__ = [
    "GPT",
    "BeamSampler",
    "Bert",
    "BertClassifier",
    "BertMaskedLMHead",
    "BertPretrainer",
    "BertTokenClassifier",
    "GenerationConfig",
    "Generator",
    "GreedySampler",
    "LabelSmoothedCrossEntropy",
    "Sampler",
    "Seq2SeqGenerator",
    "TopKSampler",
    "TopPSampler",
    "Transformer",
    "TransformerSchedule",
    "Word2Vec",
    "build_layout_map",
    "generate",
    "generate_seq2seq",
    "get_sampler",
    "transformer_optimizer",
    "translate",
]
