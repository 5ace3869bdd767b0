"""zoo.optimizers: every learning-rate schedule, and the Transformer paper's optimizer."""

import itertools

import keras
import numpy as np
import pytest

from zoo.optimizers import (
    BudgetCosineDecay,
    TransformerSchedule,
    transformer_optimizer,
    warmup_cosine_decay,
)


def test_schedule_warms_up_then_decays():
    schedule = TransformerSchedule(512, warmup_steps=4000)
    values = [float(schedule(step)) for step in (0, 999, 3999, 15999)]
    assert values[0] < values[1] < values[2] > values[3]
    assert values[2] == pytest.approx(512**-0.5 * 4000**-0.5, rel=1e-5)
    assert values[3] == pytest.approx(512**-0.5 * 16000**-0.5, rel=1e-5)
    revived = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(schedule))
    assert revived.get_config() == schedule.get_config()
    optimizer = transformer_optimizer()
    assert (optimizer.beta_1, optimizer.beta_2, optimizer.epsilon) == (0.9, 0.98, 1e-9)


def test_schedule_saved_under_its_old_module_still_loads():
    # `.keras` files written before the schedule moved out of zoo.models.transformer name
    # that module; the registered name ("zoo>TransformerSchedule") is what finds the class.
    config = keras.saving.serialize_keras_object(TransformerSchedule(64, 100, scale=2.0))
    assert config["registered_name"] == "zoo>TransformerSchedule"
    revived = keras.saving.deserialize_keras_object({**config, "module": "zoo.models.transformer"})
    assert isinstance(revived, TransformerSchedule)
    assert revived.get_config() == {"hidden_dim": 64, "warmup_steps": 100, "scale": 2.0}


def test_warmup_cosine_decay_warms_up_then_decays_to_a_tenth():
    schedule = warmup_cosine_decay(2e-3, warmup_steps=10, total_steps=110)
    rates = [float(schedule(step)) for step in range(0, 121)]
    assert rates[0] == 0.0
    assert rates[5] == pytest.approx(1e-3)  # linear warm-up
    assert rates[10] == pytest.approx(2e-3)  # the peak
    assert rates[60] == pytest.approx(2e-3 * (0.1 + 0.9 * 0.5), rel=1e-5)  # half-way down
    assert rates[110] == pytest.approx(2e-4) and rates[120] == pytest.approx(2e-4)
    assert all(a >= b for a, b in itertools.pairwise(rates[10:]))
    # No room for a warm-up: it starts at the peak.
    assert float(warmup_cosine_decay(1e-3, 10, 1)(0)) == pytest.approx(1e-3)


def test_budget_cosine_decay_is_warmup_cosine_decay_when_the_budget_does_not_bind():
    decay = BudgetCosineDecay(2e-3, warmup_steps=10, total_steps=100, seconds=1e9)
    steps = warmup_cosine_decay(2e-3, 10, 100)
    for step in (0, 3, 9, 10, 11, 40, 77, 99, 100):
        assert decay.rate(step, elapsed=step * 0.1) == pytest.approx(float(steps(step)), rel=1e-5)


def test_budget_cosine_decay_ends_at_its_floor_when_the_budget_runs_out_first():
    decay = BudgetCosineDecay(1e-3, warmup_steps=10, total_steps=1000, seconds=50.0)
    rates = [decay.rate(step, elapsed=step * 0.5) for step in range(101)]  # 0.5 s a step
    assert rates[10] == pytest.approx(1e-3)
    assert all(a >= b for a, b in itertools.pairwise(rates[10:]))
    assert rates[100] == pytest.approx(1e-4)  # a tenth, at 50 s, a tenth of the way to 1,000


def test_budget_cosine_decay_sets_the_optimizer_rate_and_refuses_a_schedule():
    class Clock:
        now = 0.0

        def __call__(self):
            self.now += 1.0
            return self.now

    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    model.compile(optimizer=keras.optimizers.Adam(0.0), loss="mse")
    data = (np.zeros((32, 4), "float32"), np.zeros((32, 2), "float32"))
    decay = BudgetCosineDecay(0.01, 2, 4, seconds=1e9, clock=Clock())
    model.fit(*data, batch_size=8, epochs=1, callbacks=[decay], verbose=0)
    assert float(model.optimizer.learning_rate) == pytest.approx(decay.rate(3, 0.0))
    with pytest.raises(ValueError, match="--time-budget"):
        BudgetCosineDecay(1e-3, 10, 100, seconds=0)
    model.compile(optimizer=keras.optimizers.Adam(warmup_cosine_decay(1e-3, 2, 10)), loss="mse")
    with pytest.raises(ValueError, match="float learning rate"):
        model.fit(*data, batch_size=8, epochs=1, callbacks=[BudgetCosineDecay(1e-3, 2, 10, 60)])
