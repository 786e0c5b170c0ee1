"""The top-level package: its public subpackages and the error when no backend is installed."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import keras_binary as kb

ROOT = Path(__file__).resolve().parents[1]


def test_public_subpackages_are_attributes():
    from keras_binary import inference

    assert kb.inference is inference
    assert kb.inference.convert is inference.convert
    for name in ("inference", "kernels", "layers", "optimizers", "quantizers"):
        assert name in dir(kb) and name in kb.__all__
    with pytest.raises(AttributeError, match="no attribute 'not_a_module'"):
        kb.not_a_module  # noqa: B018


@pytest.mark.parametrize("backend", ["jax", "tensorflow", "torch"])
def test_a_missing_backend_names_the_extra_to_install(backend):
    # `sys.modules[name] = None` makes `import name` fail as if the package were not installed.
    code = f"import sys; sys.modules[{backend!r}] = None; import keras_binary"
    env = dict(os.environ, KERAS_BACKEND=backend)
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: The Keras backend ")
    assert f"pip install 'keras-binary[{backend}]'" in last


def test_torch_backend_imports_no_other_framework():
    # Keras itself imports JAX under any backend where JAX is installed (its Orbax callback),
    # so the check is what keras_binary and the zoo add to what `import keras` imported.
    code = ("import sys, numpy as np\nimport keras\nbefore = set(sys.modules)\n"
            "import keras_binary, model_zoo.models\nfrom keras_binary import kernels, inference\n"
            "model_zoo.models.binarynet_mlp(hidden_units=8)\n"
            "kernels.binary_matmul(np.zeros((2, 1), np.int32), np.zeros((3, 1), np.int32), 5)\n"
            "added = {m.split('.')[0] for m in set(sys.modules) - before}\n"
            "print(sorted(added & {'tensorflow', 'jax', 'jaxlib', 'tensorflow_datasets'}))\n"
            "print('tensorflow' in sys.modules)\n")
    env = dict(os.environ, KERAS_BACKEND="torch")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split("\n")[:2] == ["[]", "False"], result.stdout
