import re
from pathlib import Path

import pytest

from synthloop import plugins
from synthloop.errors import UserError


def test_builtins_and_scripted_backend_register_through_the_same_hook() -> None:
    assert {"embedded", "openai", "scripted"} <= set(plugins.backends())
    assert {"tinystories", "tinystories-instruct"} <= set(plugins.recipes())


def test_unknown_names_are_one_line_errors() -> None:
    names = sorted(plugins.backends())
    assert {"ctranslate2", "embedded", "openai", "openai-batch", "scripted", "transformers", "vllm"} <= set(names)
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
