"""The public docstrings: every shared `{{name}}` spliced in, every public object with an `Args:`
section (counted by scripts/docstring_coverage.py), and every doctest example true."""

from __future__ import annotations

import doctest
import importlib.util
import inspect
from pathlib import Path

import pytest

from keras_binary import docstrings

COVERAGE_SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "docstring_coverage.py"
_spec = importlib.util.spec_from_file_location("docstring_coverage", COVERAGE_SCRIPT)
coverage = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(coverage)

ALL_MODULES = coverage.all_modules()


def test_every_public_api_object_documents_its_arguments():
    objects = coverage.public_objects(coverage.api_modules())
    missing = [name for name, value in objects.items()
               if coverage.needs_args(value) and "Args:" not in (inspect.getdoc(value) or "")]
    assert len(objects) > 100
    assert missing == []


def test_no_placeholder_is_left_in_a_public_docstring():
    left = [name for name, value in coverage.public_objects(ALL_MODULES).items()
            if "{{" in (value.__doc__ or "") and value not in (docstrings.fill, docstrings.splice)]
    assert left == []


def test_fill_indents_the_shared_text_like_its_placeholder():
    doc = "Summary.\n\n    Args:\n        {{clip_value_arg}}\n"
    first, second = docstrings.SHARED["clip_value_arg"].splitlines()[:2]
    assert docstrings.fill(doc).splitlines()[3:5] == [" " * 8 + first, " " * 8 + second]


def test_an_unknown_placeholder_is_refused_with_the_fix():
    with pytest.raises(KeyError, match=r"\{\{no_such_text\}\} is not defined; add it"):
        docstrings.fill("    {{no_such_text}}\n")


@pytest.mark.parametrize("module", ALL_MODULES, ids=lambda module: module.__name__)
def test_docstring_examples_are_true(module):
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(module, module.__name__):
        runner.run(test)
    assert runner.failures == 0, f"{runner.failures} failing example(s); the report is above"
