"""Shared helpers for the guides: fast/full mode, output folder and figure saving.

Guides run in a fast mode by default (small data slices, few epochs) so they finish in well
under a minute on a 2-core CPU. Set ``KERAS_BINARY_GUIDES_FULL=1`` (or pass ``--full`` to
``guides/render.py``) for the full-length run. Figures go to ``<out>/figures/``, where ``<out>``
is ``KERAS_BINARY_GUIDES_OUT`` or, by default, ``guides/output/`` (git-ignored), so running a
guide leaves the committed renderings alone; ``KERAS_BINARY_GUIDES_UPDATE=1`` (or
``guides/render.py --update``) writes into ``guides/`` itself to update them.

>>> from guide_utils import fast_or_full
>>> epochs = fast_or_full(2, 20)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, TypeVar

import matplotlib

matplotlib.use("Agg")

FULL_ENV = "KERAS_BINARY_GUIDES_FULL"
OUT_ENV = "KERAS_BINARY_GUIDES_OUT"
UPDATE_ENV = "KERAS_BINARY_GUIDES_UPDATE"
FIGURES = "figures"
GUIDES_DIR = Path(__file__).resolve().parent
DEFAULT_OUT = GUIDES_DIR / "output"

T = TypeVar("T")

# Paths of the figures saved so far in this process; the renderer embeds the new ones per cell.
saved_figures: list[Path] = []


def _flag(name: str) -> bool:
    value = os.environ.get(name, "0").strip().lower()
    if value not in ("0", "1", "", "false", "true"):
        raise ValueError(f"{name} must be 0 or 1, got {value!r}")
    return value in ("1", "true")


def full_mode() -> bool:
    """True when the full-length run was asked for (``KERAS_BINARY_GUIDES_FULL=1``)."""
    return _flag(FULL_ENV)


def fast_or_full(fast: T, full: T) -> T:
    """`full` in the full-length run, `fast` otherwise."""
    return full if full_mode() else fast


def mode_name() -> str:
    """ "full" or "fast"."""
    return "full" if full_mode() else "fast"


def output_dir() -> Path:
    """The folder receiving the rendered Markdown and ``figures/`` (created if missing):
    ``KERAS_BINARY_GUIDES_OUT``, else ``guides/`` with ``KERAS_BINARY_GUIDES_UPDATE=1``, else
    ``guides/output/``."""
    out = Path(os.environ.get(OUT_ENV) or (GUIDES_DIR if _flag(UPDATE_ENV) else DEFAULT_OUT))
    (out / FIGURES).mkdir(parents=True, exist_ok=True)
    return out


def save_figure(fig: Any, name: str) -> Path:
    """Saves a matplotlib figure as ``<out>/figures/<name>.png`` and closes it."""
    if not name or "/" in name or name.endswith(".png"):
        raise ValueError(f"figure name must be a bare name like '01_curves', got {name!r}")
    path = output_dir() / FIGURES / f"{name}.png"
    from keras_binary import atomic_io  # lazily: importing guide_utils stays this light

    with atomic_io.atomic_path(path) as temporary:
        fig.savefig(temporary, format="png", dpi=100, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    saved_figures.append(path)
    print(f"[figure saved: {FIGURES}/{path.name}]")
    return path
