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


@pytest.mark.parametrize("backend", ["jax", "tensorflow"])
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
