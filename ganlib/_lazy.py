"""Lazy package exports (PEP 562): a name is imported from its module on first use, then cached."""

from __future__ import annotations

import importlib
import sys
from typing import Any, Callable


def lazy_exports(package: str, exports: dict[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for the package ``package``, serving the names of ``exports``.

    Args:
        package: the package's ``__name__``.
        exports: name -> module holding it: a submodule's short name (``"step"``: ``package.step``) or a
            dotted module path (``"ganlib.errors"``).

    Returns:
        The two module-level functions to assign in the package's ``__init__``. The first raises
        ``AttributeError`` for a name that is not exported, as a module does.
    """
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str) -> Any:
        if name in exports:
            module = exports[name]
            value = getattr(importlib.import_module(module if "." in module else f"{package}.{module}"), name)
            namespace[name] = value
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__
