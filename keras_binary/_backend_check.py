"""Turns a missing Keras backend into a one-line error naming the extra to install.

`pip install keras-binary` installs Keras but no backend (a user wants one of the three large
wheels, not all), so `import keras` would fail inside Keras with `No module named 'jax'`.
"""

from __future__ import annotations

# The module Keras failed to import -> the backend it belongs to.
_BACKEND_OF_MODULE = {"jax": "jax", "jaxlib": "jax", "tensorflow": "tensorflow", "torch": "torch"}
# The backend suggested instead of a missing one.
_OTHER = {"jax": "tensorflow", "tensorflow": "jax", "torch": "jax"}


def missing_backend_message(module: str, backend: str) -> str:
    """The one-line fix for a Keras `backend` whose `module` is not installed."""
    if backend not in _OTHER:
        return (f"keras-binary supports the jax, tensorflow and torch Keras backends, not "
                f"{backend}: pip install 'keras-binary[jax]' and set KERAS_BACKEND=jax.")
    other = _OTHER[backend]
    return (f"The Keras backend {backend} is not installed (no module {module!r}): pip install "
            f"'keras-binary[{backend}]' (or 'keras-binary[{other}]' with KERAS_BACKEND={other}).")


def require_backend() -> None:
    """Imports keras; raises ImportError with the extra to install when its backend is missing."""
    try:
        import keras  # noqa: F401
    except ModuleNotFoundError as error:
        module = (error.name or "").split(".")[0]
        if module not in _BACKEND_OF_MODULE:
            raise
        raise ImportError(missing_backend_message(module, _BACKEND_OF_MODULE[module])) from None
