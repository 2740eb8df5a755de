import importlib
import pkgutil
import re
from pathlib import Path

import pytest

from synthloop import plugins
from synthloop.backends.base import Backend
from synthloop.curate.base import Filter
from synthloop.errors import UserError
from synthloop.plugins import Plugin
from synthloop.recipes.base import Recipe


def test_builtins_and_scripted_backend_register_through_the_same_hook() -> None:
    assert {"embedded", "openai", "scripted"} <= set(plugins.backends())
    assert {"tinystories", "tinystories-instruct"} <= set(plugins.recipes())


def defined_plugins(package: str, base: type) -> set[str]:
    """The name of every plugin class defined in the package's modules (not what registration says)."""
    found = set()
    for module_info in pkgutil.walk_packages(importlib.import_module(package).__path__, package + "."):
        module = importlib.import_module(module_info.name)
        found |= {
            c.name
            for c in vars(module).values()
            if isinstance(c, type) and issubclass(c, base) and c.__module__ == module.__name__ and "name" in vars(c)
        }
    return found


def test_every_builtin_plugin_class_is_registered() -> None:
    assert defined_plugins("synthloop.backends", Backend) | {"scripted"} == set(plugins.backends())
    assert defined_plugins("synthloop.recipes", Recipe) == set(plugins.recipes())
    assert defined_plugins("synthloop.curate", Filter) == set(plugins.filters())


def test_every_option_of_every_plugin_is_described_and_non_content_names_real_options() -> None:
    for kind, table in plugins.KINDS.items():
        for name, cls in table().items():
            assert issubclass(cls, Plugin) and cls.kind == kind
            undescribed = [o for o, info in cls.Options.model_fields.items() if not info.description]
            assert not undescribed or name == "scripted", (kind, name, undescribed)
            assert cls.non_content <= set(cls.Options.model_fields)


def test_fingerprint_leaves_out_each_backends_speed_options() -> None:
    from synthloop.backends.ctranslate2 import CTranslate2Backend, CTranslate2Options
    from synthloop.backends.embedded import EmbeddedBackend, EmbeddedOptions

    fast = CTranslate2Backend(CTranslate2Options(threads=8, parallel=2, temperature=0.3)).content_options()
    assert fast == CTranslate2Backend(CTranslate2Options(temperature=0.3)).content_options()
    assert "threads" not in fast and fast["temperature"] == 0.3
    assert "n_threads" not in EmbeddedBackend(EmbeddedOptions(n_threads=3)).content_options()


def test_unknown_names_are_one_line_errors() -> None:
    names = sorted(plugins.backends())
    known = re.escape(", ".join(names))
    with pytest.raises(UserError, match=rf"unknown backend 'gpt9' \(known: {known}\)"):
        plugins.lookup("backend", "gpt9")
    with pytest.raises(UserError, match="unknown recipe 'poems'"):
        plugins.lookup("recipe", "poems")


def test_a_recipe_plugin_in_one_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "my_recipe.py").write_text(
        "from synthloop.plugins import hookimpl\n"
        "from synthloop.recipes.base import Recipe\n"
        "class Poem(Recipe):\n"
        "    name = 'poem'\n"
        "    def render(self, index):\n"
        "        return self.make_record(index, f'Write a poem number {index}.', {}, [])\n"
        "@hookimpl\n"
        "def register_recipes(register):\n"
        "    register(Poem)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("SYNTHLOOP_PLUGINS", "scripted_backend, my_recipe")
    plugins.plugin_manager.cache_clear()
    assert "poem" in plugins.recipes()
    monkeypatch.setenv("SYNTHLOOP_PLUGINS", "no_such_module")
    plugins.plugin_manager.cache_clear()
    with pytest.raises(UserError, match="cannot import plugin module 'no_such_module'"):
        plugins.plugin_manager()
