"""Running exported models in ONNX Runtime: the custom-op library and a session with it.

``libkeras_binary_ort.so`` holds the ``ai.keras_binary`` ops (the same C++ kernels as the XLA
path) and links no ONNX Runtime: it is found like the kernel library (``$KERAS_BINARY_ORT_LIB``,
next to ``keras_binary/kernels/``, or ``build/*/``) and registered into any runtime at least as
new as the headers it was built with. ``onnxruntime`` is imported lazily.

Example::

    session = onnx_session("model.onnx", threads=4)
    y = session.run(None, {session.get_inputs()[0].name: x})[0]
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from keras_binary.kernels._library import candidate_paths

ORT_LIB_NAME = "libkeras_binary_ort.so"
ENV_ORT_LIB = "KERAS_BINARY_ORT_LIB"


def ort_library_path() -> Path:
    """The custom-op library's path.

    Returns:
        The first existing candidate path.

    Raises:
        FileNotFoundError: not built (the message says how to build it).

    Example::

        path = ort_library_path()
    """
    paths = candidate_paths(ORT_LIB_NAME, ENV_ORT_LIB)
    for path in paths:
        if path.is_file():
            return path
    searched = "\n  ".join(str(p) for p in paths)
    raise FileNotFoundError(
        f"{ORT_LIB_NAME} not found: it is built when ONNX Runtime's headers are available "
        "(scripts/fetch_ort_headers.sh, then reinstall or `cmake --build`), or set "
        f"{ENV_ORT_LIB}. Searched:\n  {searched}")


def register_ops(options: Any) -> Any:
    """Registers the ``ai.keras_binary`` ops in an ``onnxruntime.SessionOptions``.

    Args:
        options: The session options to register the library in.

    Returns:
        ``options``.

    Example::

        options = register_ops(onnxruntime.SessionOptions())
    """
    options.register_custom_ops_library(os.fspath(ort_library_path()))
    return options


def onnx_session(model: str | os.PathLike | bytes, threads: int | None = None) -> Any:
    """An ``onnxruntime.InferenceSession`` of an exported model, custom ops registered.

    Args:
        model: A path to an ``.onnx`` file, or its serialized bytes.
        threads: ONNX Runtime's intra-op threads (the binary ops run on them); None takes
            ONNX Runtime's default (one per core).

    Returns:
        The session, on the CPU execution provider.

    Example::

        session = onnx_session("model.onnx")
    """
    try:
        import onnxruntime
    except ImportError as error:
        raise ImportError("onnx_session needs onnxruntime: pip install "
                          "'keras-binary[onnx]'") from error
    options = register_ops(onnxruntime.SessionOptions())
    if threads is not None:
        if not isinstance(threads, int) or threads < 1:
            raise ValueError(f"threads must be a positive int or None, got {threads!r}")
        options.intra_op_num_threads = threads
    source = model if isinstance(model, bytes) else os.fspath(model)
    return onnxruntime.InferenceSession(source, options, providers=["CPUExecutionProvider"])
