"""LLM backends. Built-ins register through the same `register_backends` hook third-party plugins use."""

from __future__ import annotations

from synthloop.backends.ctranslate2 import CTranslate2Backend
from synthloop.backends.embedded import EmbeddedBackend
from synthloop.backends.openai import OpenAIBackend
from synthloop.backends.openai_batch import OpenAIBatchBackend
from synthloop.backends.transformers import TransformersBackend
from synthloop.backends.vllm import VLLMBackend
from synthloop.plugins import Register, hookimpl


@hookimpl
def register_backends(register: Register) -> None:
    register(EmbeddedBackend)
    register(OpenAIBackend)
    register(OpenAIBatchBackend)
    register(TransformersBackend)
    register(CTranslate2Backend)
    register(VLLMBackend)
