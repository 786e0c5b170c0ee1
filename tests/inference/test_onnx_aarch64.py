"""Exported models on 64-bit ARM: the custom-op library cross-built for aarch64
(scripts/build_aarch64_ort.sh) and PyPI's aarch64 onnxruntime, run under qemu-aarch64
(scripts/fetch_aarch64_runtime.sh), give the converted Keras model's outputs: bit-exact for
packed and exact float outputs, float tolerance after float layers, and the pretrained MNIST
model's accuracy on real test images; and one model from ONNX Runtime's .ort format.

All models run in one qemu process (starting Python and onnxruntime under qemu takes seconds).
Skips, with the reason, where the cross compiler or the runtime fetch is unavailable.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import keras
import numpy as np
import pytest

from keras_binary import inference
from tests.inference import models

pytest.importorskip("onnx", reason="the onnx extra (onnx) is not installed")
pytest.importorskip("onnxruntime", reason="the onnx extra (onnxruntime) is not installed")

ROOT = Path(__file__).resolve().parents[2]
CROSS_COMPILER = "aarch64-linux-gnu-g++"
# Real MNIST test images through the pretrained model: qemu runs about 20 per second on a busy
# 2-core x86 machine (most of it ORT's float first layer), so a few hundred.
N_IMAGES = 300
FLOAT_TOL = {"rtol": 1e-5, "atol": 1e-5}  # as in test_onnx_export: float layers after folding

# What runs on ARM is the exported file: which backend converted the model does not change the
# kernels or the runtime under test (test_onnx_export checks the export on every backend), and
# qemu is slow, so one backend runs this.
if keras.backend.backend() != "jax":
    pytest.skip("the aarch64 run is backend-independent and runs under KERAS_BACKEND=jax only",
                allow_module_level=True)
try:
    inference.ort_library_path()  # the x86 side: the reference run and the .ort conversion
except FileNotFoundError as error:
    pytest.skip(f"ORT custom-op library not built: {str(error).splitlines()[0]}",
                allow_module_level=True)
if shutil.which(CROSS_COMPILER) is None:
    pytest.skip(f"{CROSS_COMPILER} not found (apt-get install g++-aarch64-linux-gnu; "
                "scripts/bootstrap.sh does it as root)", allow_module_level=True)


def _script(name: str, timeout: int) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHON=sys.executable)
    return subprocess.run(["bash", str(ROOT / "scripts" / name)], capture_output=True,
                          text=True, env=env, timeout=timeout, check=False)


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


@pytest.fixture(scope="module")
def runtime() -> Path:
    """qemu-aarch64, an arm64 sysroot with Python 3.11, and aarch64 onnxruntime + numpy."""
    result = _script("fetch_aarch64_runtime.sh", timeout=600)
    if result.returncode != 0:
        pytest.skip(f"aarch64 runtime not fetched: {_last_line(result.stderr)}")
    return Path(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def library() -> Path:
    """libkeras_binary_ort.so cross-built for aarch64 (a build error is a failure)."""
    headers = subprocess.run(["bash", str(ROOT / "scripts" / "fetch_ort_headers.sh")],
                             capture_output=True, text=True, timeout=300, check=False)
    if headers.returncode != 0:
        pytest.skip(f"ONNX Runtime headers not fetched: {_last_line(headers.stderr)}")
    result = _script("build_aarch64_ort.sh", timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    path = Path(result.stdout.strip().splitlines()[-1])
    assert path.read_bytes()[18:20] == (183).to_bytes(2, "little")  # ELF e_machine: AArch64
    return path


def _convert_quietly(model: keras.Model) -> keras.Model:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return inference.convert(model, warn=False)


def _converted(builder, batch: int = 3) -> tuple[keras.Model, np.ndarray]:
    """A model with random weights, converted, and its inputs (the original is never run)."""
    model = builder()
    x = models.sample_inputs(model, batch)
    models.randomize(model, x)
    return _convert_quietly(model), x


def _packed(convnet) -> tuple[keras.Model, np.ndarray, np.ndarray]:
    """The shared binary ConvNet (conftest) cut after its second binary layer: int32 packed
    words out, through packed max pooling."""
    _, fast, x, _, _ = convnet
    packed = keras.Model(fast.inputs, fast.get_layer(fast.layers[3].name).output)
    assert keras.backend.standardize_dtype(packed.outputs[0].dtype) == "int32"
    return packed, x, packed.predict_on_batch(x)


def _pretrained_mnist():
    from model_zoo.datasets import mnist_slice
    from model_zoo.models import get_model

    fast = _convert_quietly(get_model("binarynet_mlp_2048", weights="mnist"))
    _, _, x, labels = mnist_slice(0, N_IMAGES)
    return fast, x, fast.predict(x, batch_size=250, verbose=0), labels


# The random-weight cases: True where the outputs are compared bit for bit (packed words, or a
# binary layer's float epilogue), False after float layers.
EXACT = {"binarynet_mlp": False, "packed_convnet": True, "grouped_convnet": True,
         "exact_conv_one_pad": True}

ORT_FORMAT_CASE = "grouped_convnet"  # also run from an .ort file (export_ort_format)


def _build(name: str, convnet) -> tuple[keras.Model, np.ndarray, np.ndarray]:
    """(converted model, inputs, its Keras outputs) of a case."""
    if name == "packed_convnet":
        return _packed(convnet)
    builder = {"binarynet_mlp": models.binarynet_mlp, "grouped_convnet": models.grouped_convnet,
               "exact_conv_one_pad": lambda: models.exact_conv(1.0, 1)}[name]
    fast, x = _converted(builder)
    return fast, x, fast.predict_on_batch(x)


@pytest.mark.slow
def test_exported_models_run_on_aarch64_like_keras(runtime, library, convnet, tmp_path):
    """Every case exported here and run in one aarch64 process (one test: under pytest-xdist,
    several would repeat the qemu run on each worker)."""
    expected, jobs = {}, []
    for name in EXACT:
        fast, x, keras_out = _build(name, convnet)
        expected[name] = np.asarray(keras_out)
        jobs.append((name, fast, x))
    fast, x, keras_out, labels = _pretrained_mnist()
    expected["mnist"] = np.asarray(keras_out)
    jobs.append(("mnist", fast, x))
    argv = []
    for name, fast, x in jobs:
        inference.export_onnx(fast, tmp_path / f"{name}.onnx")
        np.save(tmp_path / f"{name}.in.npy", x)
        argv += [str(tmp_path / f"{name}.{ext}") for ext in ("onnx", "in.npy", "out.npy")]
    # ORT's own format, optimized for ARM, of an exact case: the same outputs bit for bit.
    inference.export_ort_format(tmp_path / f"{ORT_FORMAT_CASE}.onnx",
                                tmp_path / f"{ORT_FORMAT_CASE}.ort", target_platform="arm")
    argv += [str(tmp_path / f"{ORT_FORMAT_CASE}.ort"),
             str(tmp_path / f"{ORT_FORMAT_CASE}.in.npy"), str(tmp_path / "ort_format.out.npy")]
    sysroot = runtime / "sysroot"
    command = [str(runtime / "qemu-aarch64"), "-L", str(sysroot), "-E",
               f"PYTHONPATH={runtime / 'site'}", str(sysroot / "usr" / "bin" / "python3.11"),
               str(ROOT / "scripts" / "ort_run.py"), str(library), "2", *argv]
    run = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.split()[0] == "aarch64"  # the machine the runtime reported
    got = {name: np.load(tmp_path / f"{name}.out.npy") for name, _, _ in jobs}

    np.testing.assert_array_equal(np.load(tmp_path / "ort_format.out.npy"),
                                  expected[ORT_FORMAT_CASE], err_msg="the .ort file")
    for name, exact in EXACT.items():
        assert got[name].dtype == expected[name].dtype, name
        if exact:
            np.testing.assert_array_equal(got[name], expected[name], err_msg=name)
        else:
            np.testing.assert_allclose(got[name], expected[name], **FLOAT_TOL, err_msg=name)

    session = inference.onnx_session(tmp_path / "mnist.onnx")
    x86 = session.run(None, {session.get_inputs()[0].name: x})[0]
    accuracy = {name: float((out.argmax(-1) == labels).mean())
                for name, out in (("aarch64", got["mnist"]), ("x86", x86),
                                  ("keras", expected["mnist"]))}
    assert accuracy["aarch64"] > 0.8, accuracy  # real test images, shipped weights
    # ORT's float first layer (MLAS on NEON or AVX, vs XLA's dot) may round a hidden value near
    # 0 to the other sign (see test_onnx_export): at most one image of N_IMAGES may differ.
    for other in ("x86", "keras"):
        assert accuracy["aarch64"] == pytest.approx(accuracy[other], abs=1.01 / N_IMAGES), \
            accuracy
    assert np.isclose(got["mnist"], expected["mnist"], **FLOAT_TOL).all(axis=-1).mean() >= 0.99
