import doctest
import importlib
import pkgutil

import pytest

import model_zoo.datasets

MODULES = sorted(
    f"model_zoo.datasets.{info.name}"
    for info in pkgutil.iter_modules(model_zoo.datasets.__path__)
    if info.name != "__main__"
)


@pytest.mark.parametrize("module_name", ["model_zoo.datasets", *MODULES])
def test_docstring_examples_run(module_name):
    module = importlib.import_module(module_name)
    assert module.__doc__ and "Example" in module.__doc__, f"{module_name} needs an example"
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
