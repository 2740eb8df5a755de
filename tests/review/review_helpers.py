"""Helpers for the review tests: a small curated-looking dataset (with hostile stories), and the real app served
by the real CLI on a free loopback port."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from conftest import cli_env, run_cli
from synthloop.records import Record
from synthloop.store.dataset import Dataset

XSS_PAYLOADS = [
    "<script>window.__xss = 1</script>",
    '<img src=x onerror="window.__xss = 2">',
    '"><svg onload="window.__xss = 3">',
    '<a href="javascript:window.__xss = 4">click</a>',
    "</textarea><script>window.__xss = 5</script>",
    "{{ 7 * 7 }} {% raw %}",
]


# The quality filter's margin (score - threshold) on some stories, an excluded one too; the rest have none.
MARGINS = {0: 0.3, 1: -0.05, 2: 0.12, 4: -0.4, 5: 0.01, 100: -0.02}
UNCERTAIN_ORDER = ["item005", "item100", "item001", "item002", "item000", "item004"]


def story(index: int, text: str, part_flags: list[str] | None = None, repeated: float = 0.0) -> Record:
    scores = {"constraints.words_used": 1.0, "form.repeated_5gram_fraction": repeated}
    if index in MARGINS:
        scores |= {"quality.margin": MARGINS[index], "quality.score": 0.5 + MARGINS[index]}
    return Record(
        id=f"item{index:03d}",
        text=text,
        recipe="tinystories",
        prompt=f"Write a story with the words ball, run, happy. ({index})",
        words={"noun": "ball", "verb": "run", "adjective": "happy"},
        features=["dialogue"] if index % 2 else [],
        model="scripted-1",
        seed=index,
        scores=scores,
        flags=part_flags or [],
        meta={"curation": "excluded" if part_flags else "kept"},
    )


def make_dataset(root: Path, kept: int = 6) -> Path:
    records = [
        story(i, f"Tom ran to the ball. He was happy and the balls were red. Story number {i}.", repeated=i / 100)
        for i in range(kept)
    ]
    records.append(story(kept, "The dog " + " ".join(XSS_PAYLOADS) + " ran home happy.", repeated=0.9))
    excluded = [story(100, "A sad story that never used the words.", ["constraints.missing_noun"])]
    dataset = Dataset.create(root, {"kind": "curate"})
    dataset.write_shard(0, records, "data")
    dataset.write_shard(0, excluded, "excluded")
    return root


def add_user(dataset: Path, name: str) -> str:
    result = run_cli("review", "add-user", name, "--in", str(dataset))
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(dataset: Path) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "synthloop.cli", "review", "--in", str(dataset), "--port", str(port)],
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url + "/login", timeout=2)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"review server did not start: {process.communicate()[1]}") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
