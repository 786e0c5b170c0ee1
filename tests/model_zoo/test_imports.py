"""Importing the zoo under the JAX backend does not import TensorFlow."""

import os
import subprocess
import sys

CODE = (
    "import sys\n"
    "import model_zoo.cli, model_zoo.demo, model_zoo.models, model_zoo.recipes\n"
    "import model_zoo.training, model_zoo.weights_registry\n"
    "model_zoo.models.binarynet_mlp(hidden_units=8)\n"
    "assert 'tensorflow' not in sys.modules, 'tensorflow was imported'\n"
)


def test_zoo_imports_without_tensorflow_under_jax():
    env = dict(os.environ, KERAS_BACKEND="jax")
    result = subprocess.run([sys.executable, "-c", CODE], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
