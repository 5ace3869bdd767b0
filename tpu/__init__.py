"""Distribution for Zoo recipes: TPU, GPU, CPU and multi-worker, one call each.

>>> import tpu
>>> strategy = tpu.get_strategy("auto")          # says what it chose and why
>>> settings = tpu.training_settings(strategy, per_replica_batch_size=64)
>>> with strategy.scope():
...     model = ...  # build and compile with jit_compile=settings.jit_compile
"""

from tpu.strategy import (
    STRATEGY_NAMES,
    TPU_DEFAULT_STEPS_PER_EXECUTION,
    Strategy,
    TrainingSettings,
    get_strategy,
    training_settings,
)

__all__ = [
    "STRATEGY_NAMES",
    "TPU_DEFAULT_STEPS_PER_EXECUTION",
    "Strategy",
    "TrainingSettings",
    "get_strategy",
    "training_settings",
]
