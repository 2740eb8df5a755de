"""Peer runner: Bespoke Curator (bespokelabs-curator 0.1.31) against a local OpenAI-compatible server.

Run it with the interpreter of a virtualenv that has bespokelabs-curator installed (not synthloop's), e.g.

    /tmp/benchvenv/bin/python benchmarks/peers/curator_client.py --base-url http://127.0.0.1:PORT/v1 \
        --prompts prompts.jsonl --concurrency 64 [--max-requests-per-minute N] [--max-tokens-per-minute N] \
        [--max-tokens 320]

The prompts file has one {"messages": [...], "seed": int} per line. Every prompt is sent once (model "sim", key
"sk-bench") through Curator's own online OpenAI processor: `curator.LLM(backend="openai")` with `backend_params`
{base_url, api_key, max_concurrent_requests=N, max_requests_per_minute, max_tokens_per_minute,
require_all_responses=False} and
`generation_params={"max_tokens": ...}`; `prompt()` returns the row's full message list, and each row carries its
seed as Curator's per-row `generation_params` column. At the end one JSON line goes to stdout:

    {"tool": "curator", "version", "n", "ok", "failed", "wall_s", "import_s", ...}

wall_s runs from just before the first HTTP request is sent to the last answer (time.perf_counter, taken by a thin
wrapper around Curator's own `fetch_response`, so it excludes imports, Curator's request-file preparation before the
first send and the Arrow dataset it builds after the last answer); run_s is the whole `llm(dataset)` call. The
wrapper also counts HTTP attempts (`sent`, retries included) and the most in flight at once (`client_max_in_flight`).
Everything else the tool prints goes to stderr.

Offline: Curator calls `tiktoken.get_encoding("cl100k_base")` when its processor is built; litellm (a Curator
dependency) ships that file, so TIKTOKEN_CACHE_DIR points at litellm's bundled copy (the exact encoder, no download);
if that copy is missing, tiktoken.get_encoding is stubbed with an approximate len(text)//4 encoder. Telemetry is off
(TELEMETRY_ENABLED=false, posthog.disabled), the hosted viewer is off (CURATOR_VIEWER unset), litellm reads its
bundled cost map (LITELLM_LOCAL_MODEL_COST_MAP=True), Hugging Face libraries are offline, and the cache is off
(CURATOR_DISABLE_CACHE=1: a random fingerprint per run) with a fresh temporary HOME/working dir per run. A socket
guard refuses (at once, logged to stderr) any connection or DNS lookup other than loopback and the server's host, so
nothing can block on the network.

Note: building the OpenAI processor makes one probe request (POST {"model": "sim", "messages": []} without a
timeout, to read x-ratelimit-* headers) before any prompt is sent; the simulator answers it with a 500 (it is not
`served`, but it sets the server's `first` and adds one service latency), and it happens before wall_s starts.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

TOOL = "curator"
HIGH_RPM = 1_000_000_000  # "no limit": Curator's defaults would otherwise be 200 RPM / 100k TPM
HIGH_TPM = 1_000_000_000_000


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True, help="OpenAI-compatible base URL, e.g. http://127.0.0.1:PORT/v1")
    parser.add_argument("--prompts", required=True, type=Path, help='JSONL of {"messages": [...], "seed": int}')
    parser.add_argument("--concurrency", required=True, type=int, help="most requests in flight at once")
    parser.add_argument("--max-requests-per-minute", type=int, default=None, help="Curator RPM limit (default: none)")
    parser.add_argument("--max-tokens-per-minute", type=int, default=None, help="Curator TPM limit (default: none)")
    parser.add_argument("--max-tokens", type=int, default=320, help="max_tokens per completion")
    parser.add_argument("--model", default="sim")
    parser.add_argument("--api-key", default="sk-bench")
    parser.add_argument("--keep", action="store_true", help="keep the temporary working dir (its path goes to stderr)")
    return parser.parse_args()


def log(*parts: object) -> None:
    print(f"[{TOOL}_client]", *parts, file=sys.stderr, flush=True)


def stdout_to_stderr() -> int:
    """Point fd 1 (and so sys.stdout and any child process) at stderr; return a duplicate of the real stdout."""
    sys.stdout.flush()
    real = os.dup(1)
    os.dup2(2, 1)
    return real


def guard_network(allowed_host: str) -> list[str]:
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


def offline_environment(home: Path) -> str:
    """Set the environment before the tool is imported; return which tokenizer Curator will get."""
    os.environ["HOME"] = str(home)  # ~/.cache/curator, ~/.cache/.curator_config, HF caches: all per-run, in /tmp
    os.environ["CURATOR_CACHE_DIR"] = str(home / "curator")
    os.environ["CURATOR_DISABLE_CACHE"] = "1"  # llm.py: random fingerprint, nothing read back
    os.environ["TELEMETRY_ENABLED"] = "false"  # telemetry/client.py: PosthogClient.capture returns at once
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # litellm: bundled cost map, no fetch at import
    os.environ["LITELLM_TELEMETRY"] = "False"
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    os.environ["DO_NOT_TRACK"] = "1"
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost,::1"
    for name in ("CURATOR_VIEWER", "BESPOKE_API_KEY", "OPENAI_BASE_URL", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        os.environ.pop(name, None)
        os.environ.pop(name.lower(), None)
    # Curator builds tiktoken's cl100k_base when its OpenAI processor starts; litellm ships that file
    # (named by the SHA-1 of its URL), so tiktoken finds it in its cache dir and downloads nothing.
    import importlib.util

    spec = importlib.util.find_spec("litellm")
    if spec and spec.origin:
        bundled = Path(spec.origin).parent / "litellm_core_utils" / "tokenizers"
        if (bundled / "9b5ad71b2ce5302211f9c61530b329a4922fc6a4").exists():
            os.environ["TIKTOKEN_CACHE_DIR"] = str(bundled)
            return "tiktoken cl100k_base (litellm's bundled copy)"
    stub_tiktoken()
    return "approximate (len(text)//4 stub)"


def stub_tiktoken() -> None:
    """Replace tiktoken's encoders with an approximate one (a token per 4 characters), before Curator imports it."""
    import tiktoken

    class ApproxEncoding:
        name = "approx"

        def encode(self, text: str, *args: object, **kwargs: object) -> list[int]:
            return [0] * (len(text) // 4)

    tiktoken.get_encoding = lambda name: ApproxEncoding()  # type: ignore[assignment]
    tiktoken.encoding_for_model = lambda model: ApproxEncoding()  # type: ignore[assignment]


class Clock:
    """First HTTP send, last answer, attempts and the most in flight, as seen just around each HTTP request."""

    def __init__(self) -> None:
        self.first = math.inf
        self.last = -math.inf
        self.sent = 0
        self.answered = 0
        self.in_flight = 0
        self.max_in_flight = 0

    def start(self) -> None:
        now = time.perf_counter()
        self.first = min(self.first, now)
        self.sent += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def end(self, answered: bool) -> None:
        self.in_flight -= 1
        self.last = max(self.last, time.perf_counter())
        self.answered += answered


def main() -> None:
    args = parse_args()
    real_stdout = stdout_to_stderr()
    work = Path(tempfile.mkdtemp(prefix="bench_curator_"))
    blocked = guard_network(urlparse(args.base_url).hostname or "127.0.0.1")
    tokenizer = offline_environment(work)
    rows = [json.loads(line) for line in args.prompts.read_text().splitlines() if line.strip()]

    started = time.perf_counter()
    import bespokelabs.curator as curator
    import posthog
    from bespokelabs.curator.request_processor.online import openai_online_request_processor as oai
    from datasets import Dataset

    import_s = time.perf_counter() - started
    posthog.disabled = True  # belt and braces: TELEMETRY_ENABLED=false already stops every capture

    clock = Clock()
    fetch_response = oai.fetch_response

    async def timed_fetch_response(session, **kwargs):  # type: ignore[no-untyped-def]
        clock.start()
        answered = False
        try:
            response = await fetch_response(session, **kwargs)
            answered = isinstance(response, dict) and "choices" in response
            return response
        finally:
            clock.end(answered)

    oai.fetch_response = timed_fetch_response  # call_single_request looks it up in this module at call time

    class Prompts(curator.LLM):
        def prompt(self, input: dict) -> list[dict]:
            return [{"role": m["role"], "content": m["content"]} for m in input["messages"]]

    backend_params = {
        "base_url": args.base_url,
        "api_key": args.api_key,
        "max_concurrent_requests": args.concurrency,
        "max_requests_per_minute": args.max_requests_per_minute or HIGH_RPM,
        "max_tokens_per_minute": args.max_tokens_per_minute or HIGH_TPM,
        # Report partial results instead of raising when some prompts fail (the default, True, makes llm() raise
        # and loses the count of what did come back). Retries (max_retries=10) and request_timeout (600 s) keep
        # Curator's defaults.
        "require_all_responses": False,
    }
    llm = Prompts(
        model_name=args.model,
        backend="openai",
        generation_params={"max_tokens": args.max_tokens},
        backend_params=backend_params,
    )
    # Curator's per-row generation_params column (a JSON string) carries each prompt's seed into its request.
    dataset = Dataset.from_list(
        [
            {"messages": row["messages"], "generation_params": json.dumps({"seed": int(row.get("seed", i))})}
            for i, row in enumerate(rows)
        ]
    )

    run_started = time.perf_counter()
    try:
        result = llm(dataset, working_dir=str(work / "run"))
        texts = [r for r in result.dataset["response"]] if "response" in result.dataset.column_names else []
        error = None
    except Exception as exc:  # all failed, or a tool error: report it, count what came back
        log(f"curator raised {exc.__class__.__name__}: {exc}")
        texts, error = [], f"{exc.__class__.__name__}: {exc}"
    run_s = time.perf_counter() - run_started

    ok = sum(1 for text in texts if isinstance(text, str) and text.strip())
    report = {
        "tool": TOOL,
        "version": curator.__version__,
        "n": len(rows),
        "ok": ok,
        "failed": len(rows) - ok,
        "wall_s": round(clock.last - clock.first, 4) if clock.sent else None,
        "import_s": round(import_s, 4),
        "run_s": round(run_s, 4),
        "concurrency": args.concurrency,
        "sent": clock.sent,
        "client_max_in_flight": clock.max_in_flight,
        "tokenizer": tokenizer,
        "network_blocked": len(blocked),
    }
    if error:
        report["error"] = error[:500]
    if args.keep:
        log(f"working dir kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os.write(real_stdout, (json.dumps(report) + "\n").encode())
    os.close(real_stdout)


if __name__ == "__main__":
    main()
