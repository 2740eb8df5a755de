"""What the peer runners (curator_client.py, distilabel_client.py) share: one command line, one way to run offline.

benchmarks/serving_throughput.py runs each peer runner as a script with the benchmark virtualenv's interpreter
(`.venv-bench/bin/python benchmarks/peers/<tool>_client.py ...`), so this folder is on sys.path and a runner imports
this module as `common`. It uses the standard library only: it must import in that interpreter, and never synthloop.

Here: the command line every runner accepts (its help texts say what each option means to that tool), the stderr log,
fd 1 turned to stderr with the real stdout kept for the report, the network guard, the settings that keep any tool
offline, the prompts file, the clock around each HTTP attempt, and the single JSON line the runner ends with. How a
tool is configured and called, and its own environment switches, stay in its runner.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import multiprocessing as mp
import os
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlparse

Log = Callable[..., None]

# The report's keys in the order they are written; the tool-specific ones (mode, tokenizer, ignored) and error only
# where a runner gives them.
REPORT_KEYS = (
    "tool",
    "version",
    "n",
    "ok",
    "failed",
    "wall_s",
    "import_s",
    "run_s",
    "concurrency",
    "mode",
    "sent",
    "client_max_in_flight",
    "tokenizer",
    "network_blocked",
    "ignored",
    "error",
)


def parse_args(
    description: str,
    *,
    concurrency_help: str,
    rpm_help: str,
    tpm_help: str,
    max_tokens_help: str,
    more: Callable[[argparse.ArgumentParser], object] | None = None,
) -> argparse.Namespace:
    """The runners' common command line; `more` adds a runner's own options after --max-tokens."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--base-url", required=True, help="OpenAI-compatible base URL, e.g. http://127.0.0.1:PORT/v1")
    parser.add_argument("--prompts", required=True, type=Path, help='JSONL of {"messages": [...], "seed": int}')
    parser.add_argument("--concurrency", required=True, type=int, help=concurrency_help)
    parser.add_argument("--max-requests-per-minute", type=int, default=None, help=rpm_help)
    parser.add_argument("--max-tokens-per-minute", type=int, default=None, help=tpm_help)
    parser.add_argument("--max-tokens", type=int, default=320, help=max_tokens_help)
    if more:
        more(parser)
    parser.add_argument("--model", default="sim")
    parser.add_argument("--api-key", default="sk-bench")
    parser.add_argument("--keep", action="store_true", help="keep the temporary working dir (its path goes to stderr)")
    return parser.parse_args()


def logger(tool: str) -> Log:
    """A log function that writes its parts to stderr after `[<tool>_client]`."""

    def log(*parts: object) -> None:
        print(f"[{tool}_client]", *parts, file=sys.stderr, flush=True)

    return log


def stdout_to_stderr() -> int:
    """Point fd 1 (and so sys.stdout, child processes and forked workers) at stderr; return a duplicate of stdout."""
    sys.stdout.flush()
    real = os.dup(1)
    os.dup2(2, 1)
    return real


def guard_network(allowed_host: str, log: Log) -> list[str]:
    """Refuse, at once and logged, every DNS lookup and connection except loopback and the server's host."""
    allowed = {"127.0.0.1", "::1", "localhost", "0.0.0.0", allowed_host}
    blocked: list[str] = []

    def ok_host(host: object) -> bool:
        if isinstance(host, bytes):
            host = host.decode(errors="replace")
        return host is None or str(host) in allowed or str(host).startswith("127.")

    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not ok_host(host):
            blocked.append(f"dns {host}")
            log(f"blocked a DNS lookup of {host!r} (offline benchmark)")
            raise socket.gaierror(socket.EAI_NONAME, f"blocked by the benchmark's network guard: {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    def guarded(method):  # type: ignore[no-untyped-def]
        def wrapper(self, address, *args, **kwargs):  # type: ignore[no-untyped-def]
            if self.family in (socket.AF_INET, socket.AF_INET6) and not ok_host(address[0]):
                blocked.append(f"connect {address}")
                log(f"blocked a connection to {address!r} (offline benchmark)")
                raise ConnectionRefusedError(f"blocked by the benchmark's network guard: {address}")
            return method(self, address, *args, **kwargs)

        return wrapper

    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
    socket.socket.connect = guarded(socket.socket.connect)  # type: ignore[method-assign]
    socket.socket.connect_ex = guarded(socket.socket.connect_ex)  # type: ignore[method-assign]
    return blocked


def offline_environment(home: Path, unset: tuple[str, ...] = ()) -> None:
    """The settings every runner makes before its tool is imported; `unset` names the runner's own variables to drop.

    HOME is the run's temporary dir (the tool's ~/.cache and the Hugging Face caches are per-run, in /tmp), Hugging
    Face libraries are offline, litellm reads its bundled cost map, nothing tracks, and no proxy or inherited OpenAI
    base URL applies. A runner sets its tool's own switches after this.
    """
    os.environ["HOME"] = str(home)
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # litellm (a Curator dependency): no cost map fetch at import
    os.environ["DO_NOT_TRACK"] = "1"
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost,::1"
    for name in (*unset, "OPENAI_BASE_URL", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        os.environ.pop(name, None)
        os.environ.pop(name.lower(), None)


def read_prompts(path: Path) -> list[dict[str, Any]]:
    """The prompts file's rows: one {"messages": [...], "seed": int} per non-blank line."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


FIRST, LAST, SENT, ANSWERED, IN_FLIGHT, MAX_IN_FLIGHT = range(6)


class Clock:
    """First HTTP send, last answer, attempts and the most in flight, as seen just around each HTTP request.

    shared=True keeps the counters in shared memory under its lock, for a tool that sends from forked workers (they
    inherit it; perf_counter is the system-wide monotonic clock); otherwise they are plain numbers in this process.
    """

    def __init__(self, shared: bool = False) -> None:
        initial = [math.inf, -math.inf, 0, 0, 0, 0]
        self.counts: Any
        self.lock: contextlib.AbstractContextManager[Any]
        if shared:
            self.counts = mp.Array("d", initial)
            self.lock = self.counts.get_lock()
        else:
            self.counts, self.lock = initial, contextlib.nullcontext()

    def start(self) -> None:
        with self.lock:
            counts = self.counts
            counts[FIRST] = min(counts[FIRST], time.perf_counter())
            counts[SENT] += 1
            counts[IN_FLIGHT] += 1
            counts[MAX_IN_FLIGHT] = max(counts[MAX_IN_FLIGHT], counts[IN_FLIGHT])

    def end(self, answered: bool) -> None:
        with self.lock:
            counts = self.counts
            counts[IN_FLIGHT] -= 1
            counts[ANSWERED] += answered
            counts[LAST] = max(counts[LAST], time.perf_counter())

    def timed(
        self, call: Callable[..., Awaitable[Any]], answered: Callable[[Any], bool]
    ) -> Callable[..., Awaitable[Any]]:
        """Wrap one HTTP attempt (an async call): start before it, end after it, answered as `answered` says."""

        async def timed_call(*args: Any, **kwargs: Any) -> Any:
            self.start()
            ok = False
            try:
                result = await call(*args, **kwargs)
                ok = answered(result)
                return result
            finally:
                self.end(ok)

        return timed_call

    @property
    def sent(self) -> int:
        return int(self.counts[SENT])

    @property
    def max_in_flight(self) -> int:
        return int(self.counts[MAX_IN_FLIGHT])

    @property
    def wall_s(self) -> float | None:
        """First send to last answer, in seconds; None when nothing was sent."""
        return round(self.counts[LAST] - self.counts[FIRST], 4) if self.sent else None


class Outcome(NamedTuple):
    """What the tool's generation gave: its texts (None or "" where a prompt failed), its seconds, its error."""

    texts: list[Any]
    run_s: float
    error: str | None


class Run:
    """One runner's run, from just after its arguments are parsed to its report.

    Starting it points fd 1 at stderr (everything the tool prints goes there), makes a fresh temporary working dir
    (`work`) and guards the network (`blocked` lists what was refused); `generate` times the tool's work and `report`
    writes the single JSON line.
    """

    def __init__(self, tool: str, args: argparse.Namespace, log: Log) -> None:
        self.tool, self.args, self.log = tool, args, log
        self.real_stdout = stdout_to_stderr()
        self.work = Path(tempfile.mkdtemp(prefix=f"bench_{tool}_"))
        self.blocked = guard_network(urlparse(args.base_url).hostname or "127.0.0.1", log)

    def generate(self, call: Callable[[], list[Any]]) -> Outcome:
        """Run the tool's whole generation (`call` returns a text per prompt), timed; an exception it raises is
        logged and reported, with no texts."""
        started = time.perf_counter()
        try:
            texts, error = call(), None
        except Exception as exc:  # all failed, or a tool error: report it, count what came back
            self.log(f"{self.tool} raised {exc.__class__.__name__}: {exc}")
            texts, error = [], f"{exc.__class__.__name__}: {exc}"
        return Outcome(texts, time.perf_counter() - started, error)

    def report(self, *, version: str, n: int, outcome: Outcome, clock: Clock, import_s: float, **details: Any) -> None:
        """Write the report (one JSON line) to the real stdout; remove the working dir unless --keep.

        ok counts the non-blank texts; `details` are the runner's own keys (mode, tokenizer, ignored), written in
        their places in REPORT_KEYS.
        """
        texts, run_s, error = outcome
        ok = sum(1 for text in texts if isinstance(text, str) and text.strip())
        fields = {
            "tool": self.tool,
            "version": version,
            "n": n,
            "ok": ok,
            "failed": n - ok,
            "wall_s": clock.wall_s,
            "import_s": round(import_s, 4),
            "run_s": round(run_s, 4),
            "concurrency": self.args.concurrency,
            "sent": clock.sent,
            "client_max_in_flight": clock.max_in_flight,
            "network_blocked": len(self.blocked),
            **details,
        }
        if error:
            fields["error"] = error[:500]
        place = {key: index for index, key in enumerate(REPORT_KEYS)}  # a key not listed goes last
        report = dict(sorted(fields.items(), key=lambda item: place.get(item[0], len(place))))
        if self.args.keep:
            self.log(f"working dir kept: {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)
        sys.stdout.flush()
        sys.stderr.flush()
        os.write(self.real_stdout, (json.dumps(report) + "\n").encode())
        os.close(self.real_stdout)
