"""The same training on two CPU devices (MirroredStrategy / DataParallel) equals one device."""

import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(keras.backend.backend() == "torch",
                    reason="Keras's torch backend has no data-parallel path over CPU devices")
@pytest.mark.parametrize("kind", ["bop", "lab"])
def test_two_devices_match_one(kind, tmp_path):
    out = tmp_path / "weights.npz"
    env = dict(os.environ, KERAS_BACKEND=keras.backend.backend(), PYTHONPATH=str(ROOT),
               XLA_FLAGS="--xla_force_host_platform_device_count=2")
    subprocess.run([sys.executable, "-m", "tests.optimizers.distributed_run", kind, str(out)],
                   cwd=ROOT, env=env, check=True, timeout=300)
    result = np.load(out)
    assert int(result["replicas"]) == 2
    arrays = [result[f"arr_{i}"] for i in range(len(result.files) - 1)]
    single, double = arrays[: len(arrays) // 2], arrays[len(arrays) // 2 :]
    for a, b in zip(single, double, strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)
