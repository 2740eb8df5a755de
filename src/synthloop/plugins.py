"""The plugin manager: backends, recipes and filters all register through these hooks (simonw/llm's pattern).

Built-ins are registered by the same hooks a third party uses. External plugins come from the `synthloop`
entry-point group (`[project.entry-points.synthloop] myplugin = "my_package.plugin"`) or from module names in the
environment variable SYNTHLOOP_PLUGINS (comma-separated), which is handy for a one-file plugin.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import pluggy

from synthloop.errors import UserError

hookspec = pluggy.HookspecMarker("synthloop")
hookimpl = pluggy.HookimplMarker("synthloop")

Register = Callable[[Any], None]


class HookSpecs:
    @hookspec
    def register_backends(self, register: Register) -> None:
        """Call register(BackendClass) for each backend class this plugin provides."""

    @hookspec
    def register_recipes(self, register: Register) -> None:
        """Call register(RecipeClass) for each recipe class this plugin provides."""

    @hookspec
    def register_filters(self, register: Register) -> None:
        """Call register(FilterClass) for each curation filter class this plugin provides."""


BUILTIN_PLUGINS = ("synthloop.backends", "synthloop.recipes", "synthloop.curate.builtin")


@lru_cache(maxsize=1)
def plugin_manager() -> pluggy.PluginManager:
    manager = pluggy.PluginManager("synthloop")
    manager.add_hookspecs(HookSpecs)
    for name in BUILTIN_PLUGINS:
        manager.register(importlib.import_module(name), name=name)
    manager.load_setuptools_entrypoints("synthloop")
    for name in filter(None, (n.strip() for n in os.environ.get("SYNTHLOOP_PLUGINS", "").split(","))):
        try:
            module = importlib.import_module(name)
        except ImportError as error:
            raise UserError(f"SYNTHLOOP_PLUGINS: cannot import plugin module {name!r} ({error})") from error
        if not manager.is_registered(module):
            manager.register(module, name=name)
    return manager


def _collect(hook_name: str) -> dict[str, Any]:
    found: dict[str, Any] = {}

    def register(cls: Any) -> None:
        found[cls.name] = cls

    getattr(plugin_manager().hook, hook_name)(register=register)
    return found


def backends() -> dict[str, Any]:
    return _collect("register_backends")


def recipes() -> dict[str, Any]:
    return _collect("register_recipes")


def filters() -> dict[str, Any]:
    return _collect("register_filters")


def lookup(kind: str, name: str) -> Any:
    table = {"backend": backends, "recipe": recipes, "filter": filters}[kind]()
    if name not in table:
        known = ", ".join(sorted(table)) or "none"
        raise UserError(f"unknown {kind} {name!r} (known: {known})")
    return table[name]
