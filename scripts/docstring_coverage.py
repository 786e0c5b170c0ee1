"""Counts the public classes and functions whose docstring has no `Args:` section.

The public API is what the packages export: the names in `__all__` of `keras_binary`,
`model_zoo` and the modules and subpackages they list (a module without `__all__` exports the
classes and functions it defines), plus the modules in `ENTRY_MODULES`. `--all` widens the count
to every module whose import path has no `_`-prefixed part. Exceptions and objects that take no
argument need no `Args:`.

Usage: KERAS_BACKEND=jax python scripts/docstring_coverage.py [--all] [--list]
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import pkgutil
import sys
from pathlib import Path
from types import ModuleType

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PACKAGES = ("keras_binary", "model_zoo")
# Public modules no package `__all__` lists: the inference package, the CLIs, the zoo's callback.
ENTRY_MODULES = ("keras_binary.inference", "model_zoo.cli", "model_zoo.model_selection")


def exported_names(module: ModuleType) -> list[str]:
    names = getattr(module, "__all__", None)
    if names is not None:
        return list(names)
    return [name for name, value in vars(module).items()
            if not name.startswith("_") and getattr(value, "__module__", None) == module.__name__]


def api_modules() -> list[ModuleType]:
    pending = [importlib.import_module(name) for name in PACKAGES + ENTRY_MODULES]
    seen: dict[str, ModuleType] = {}
    while pending:
        module = pending.pop()
        if module.__name__ in seen:
            continue
        seen[module.__name__] = module
        pending += [value for name in exported_names(module)
                    if inspect.ismodule(value := getattr(module, name))]
    return list(seen.values())


def all_modules() -> list[ModuleType]:
    modules = []
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        modules.append(package)
        for info in pkgutil.walk_packages(package.__path__, package_name + "."):
            if any(part.startswith("_") for part in info.name.split(".")):
                continue
            spec = importlib.util.find_spec(info.name)
            if spec is None or not str(spec.origin).endswith(".py"):
                continue  # the kernel libraries (.so) sit in the package but are not modules
            modules.append(importlib.import_module(info.name))
    return modules


def public_objects(modules: list[ModuleType]) -> dict[str, object]:
    found: dict[int, tuple[str, object]] = {}
    for module in modules:
        for name in exported_names(module):
            value = getattr(module, name)
            if inspect.isclass(value) or inspect.isfunction(value):
                found.setdefault(id(value), (f"{value.__module__}.{value.__qualname__}", value))
    return dict(sorted(found.values(), key=lambda item: item[0]))


def needs_args(value: object) -> bool:
    if inspect.isclass(value) and issubclass(value, BaseException):
        return False
    try:
        parameters = inspect.signature(value).parameters
    except (TypeError, ValueError):
        return False
    return len(parameters) > 0


def main() -> int:
    objects = public_objects(all_modules() if "--all" in sys.argv else api_modules())
    asked = {name: value for name, value in objects.items() if needs_args(value)}
    missing = [name for name, value in asked.items()
               if "Args:" not in (inspect.getdoc(value) or "")]
    if "--list" in sys.argv:
        print("\n".join(missing))
    print(f"{len(objects)} public objects, {len(asked)} take arguments, "
          f"{len(missing)} without Args:")
    return 0


if __name__ == "__main__":
    sys.exit(main())
