"""Prompt recipes. Built-ins register through the same `register_recipes` hook third-party plugins use."""

from __future__ import annotations

from synthloop.plugins import Register, hookimpl
from synthloop.recipes.instruct import TinyStoriesInstruct
from synthloop.recipes.simplestories import SimpleStories
from synthloop.recipes.tinystories import TinyStories


@hookimpl
def register_recipes(register: Register) -> None:
    register(TinyStories)
    register(TinyStoriesInstruct)
    register(SimpleStories)
