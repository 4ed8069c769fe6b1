"""utils.training.parallel: the batch must split over the devices, the section's skip sentence on other
backends, the XLA flag, and (in a JAX process with the CPU split into four devices) data-parallel
training whose losses equal the single-device run's within float32 rounding."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from utils.training import parallel

REPO = Path(__file__).resolve().parent.parent


def test_check_batch_needs_a_multiple_of_the_devices():
    assert parallel.check_batch(16, 4) == 4
    with pytest.raises(ValueError, match="a batch of 10 does not split evenly over 4 devices"):
        parallel.check_batch(10, 4)
    for devices in (0, -1, 2.0, True):
        with pytest.raises(ValueError, match="number of devices"):
            parallel.check_batch(8, devices)
    with pytest.raises(ValueError, match="batch size"):
        parallel.check_batch(0, 2)


def test_split_cpu_adds_the_flag_once_and_keeps_the_users_count():
    environ = {"XLA_FLAGS": "--xla_backend_optimization_level=0"}
    assert parallel.split_cpu(4, environ)
    assert environ["XLA_FLAGS"] == "--xla_backend_optimization_level=0 --xla_force_host_platform_device_count=4"
    parallel.split_cpu(8, environ)
    assert environ["XLA_FLAGS"].count("device_count") == 1
    with pytest.raises(ValueError, match="at least 1"):
        parallel.split_cpu(0, {})


def test_why_not_explains_a_skip():
    assert "runs on JAX only" in parallel.why_not("tensorflow")
    assert "torch.nn.parallel.DistributedDataParallel" in parallel.why_not("torch")
    assert "fewer than the 2" in parallel.why_not("jax", devices=1)
    assert parallel.why_not("jax", devices=4) is None


SCRIPT = textwrap.dedent("""
    from utils.training import parallel
    assert parallel.split_cpu(4)
    import keras, numpy as np
    from keras import layers
    assert parallel.why_not() is None, parallel.why_not()
    def build():
        model = keras.Sequential([keras.Input((8,)), layers.Dense(16, activation="relu"), layers.Dense(3)])
        model.compile(optimizer=keras.optimizers.SGD(0.1),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        return model
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 8)).astype("float32"), rng.integers(0, 3, size=64)
    keras.utils.set_random_seed(0)
    weights = build().get_weights()
    single, _ = parallel.train_losses(build, x, y, 16, 2, weights=weights)
    spread, model = parallel.train_losses(build, x, y, 16, 2, parallel.data_parallel(), weights=weights)
    assert len(single) == len(spread) == 8
    assert max(abs(a - b) for a, b in zip(single, spread)) <= 1e-5, (single, spread)
    assert single[-1] < single[0]
    assert len(model.layers[0].kernel.value.sharding.device_set) == 4
    try:
        parallel.train_losses(build, x, y, 10, 1, parallel.data_parallel(), weights=weights)
    except ValueError as error:
        assert "does not split evenly over 4 devices" in str(error)
    else:
        raise AssertionError("a batch of 10 over 4 devices was accepted")
    print("OK")
""")


def test_data_parallel_losses_equal_single_device_losses_on_jax():
    pytest.importorskip("jax")
    environ = {**os.environ, "KERAS_BACKEND": "jax", "XLA_FLAGS": "", "JAX_PLATFORMS": "cpu"}
    run = subprocess.run([sys.executable, "-c", SCRIPT], cwd=REPO, env=environ, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0 and "OK" in run.stdout, run.stderr[-3000:]
