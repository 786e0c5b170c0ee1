"""Griffe extension for the API reference: shows docstring doctests as Python console code.

The docstrings keep bare `>>>` blocks, so that doctest runs them; Markdown would read `>>>` as
nested quotes and `[...]` outputs as links. Each run of `>>>` / `...` lines and their output,
up to a blank line, is wrapped in a ```pycon fence, and doctest flags are dropped.
"""

from __future__ import annotations

import re
from typing import Any

from griffe import Extension

_FLAGS = re.compile(r"\s*#\s*doctest:.*$")


def fence_doctests(text: str) -> str:
    """Wraps every doctest block of `text` in a ```pycon fence at the block's indentation."""
    out: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.lstrip().startswith(">>>"):
            out.append(line)
            i += 1
            continue
        indent = line[: len(line) - len(line.lstrip())]
        out.append(indent + "```pycon")
        while i < len(lines) and lines[i].strip():
            out.append(_FLAGS.sub("", lines[i]))
            i += 1
        out.append(indent + "```")
    return "\n".join(out)


class DoctestFences(Extension):
    """Applies `fence_doctests` to the docstring of every object griffe loads."""

    def _fence(self, obj: Any) -> None:
        if obj.docstring is not None and ">>>" in obj.docstring.value:
            obj.docstring.value = fence_doctests(obj.docstring.value)

    def on_instance(self, *, obj: Any, **kwargs: Any) -> None:
        self._fence(obj)
