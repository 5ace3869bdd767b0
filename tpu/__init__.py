"""Distribution for Zoo recipes: TPU, GPU, CPU and multi-worker, one call each.

>>> import tpu
>>> strategy = tpu.get_strategy("auto")          # says what it chose and why
>>> settings = tpu.training_settings(strategy, per_replica_batch_size=64)
>>> with strategy.scope():
...     model = ...  # build and compile with jit_compile=settings.jit_compile
"""

from tpu.batches import (
    batch_shards,
    check_batch_size,
    evaluate,
    local_rows,
    pad_examples,
    predict,
    process_rows,
    process_shard,
)
from tpu.strategy import (
    STRATEGY_NAMES,
    TPU_DEFAULT_STEPS_PER_EXECUTION,
    Strategy,
    TrainingSettings,
    get_strategy,
    initialize_processes,
    training_settings,
)

__all__ = [
    "STRATEGY_NAMES",
    "TPU_DEFAULT_STEPS_PER_EXECUTION",
    "Strategy",
    "TrainingSettings",
    "batch_shards",
    "check_batch_size",
    "evaluate",
    "get_strategy",
    "initialize_processes",
    "local_rows",
    "pad_examples",
    "predict",
    "process_rows",
    "process_shard",
    "training_settings",
]
