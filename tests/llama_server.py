"""A real OpenAI-compatible server for tests: llama-cpp-python's server (the `server` extra) over the embedded
SmolLM2 GGUF, on a free loopback port, stopped when the block ends."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from synthloop.backends.embedded import default_model_path

# llama_cpp.server with llama.cpp's CPU weight repacking off, as the embedded backend loads models: the AMX repack
# path crashes in decode on CPUs with AMX (backends/embedded.py, `repack`).
SERVE = (
    "import runpy\n"
    "from synthloop.backends.embedded import without_weight_repacking\n"
    "with without_weight_repacking():\n"
    "    runpy.run_module('llama_cpp.server', run_name='__main__', alter_sys=True)\n"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve_gguf(n_ctx: int = 1024, alias: str = "smollm2") -> Iterator[str]:
    """Yields the server's base URL (http://127.0.0.1:PORT/v1)."""
    model = default_model_path()
    assert model is not None
    port = free_port()
    command = [
        sys.executable,
        "-c",
        SERVE,
        "--model",
        str(model),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        str(n_ctx),
        "--model_alias",
        alias,
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        for _ in range(300):
            try:
                if httpx.get(base_url + "/models", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail("llama_cpp.server did not start")
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=30)
