"""Peer runner: distilabel 1.5.3 against a local OpenAI-compatible server.

Run it with the interpreter of a virtualenv that has distilabel (and openai) installed (not synthloop's), e.g.

    /tmp/benchvenv/bin/python benchmarks/peers/distilabel_client.py --base-url http://127.0.0.1:PORT/v1 \
        --prompts prompts.jsonl --concurrency 64 [--max-tokens 320] [--mode pipeline|llm]

The prompts file has one {"messages": [...], "seed": int} per line. Every prompt is sent once (model "sim", key
"sk-bench") with distilabel's own concurrency mechanism: an `OpenAILLM` (an AsyncLLM) sends one batch of
`input_batch_size` inputs at once (asyncio.gather over `agenerate`) and waits for the whole batch before it takes the
next, so `input_batch_size = --concurrency` caps requests in flight at N, but the number in flight falls as each
batch drains (a batch is as slow as its slowest request). When a request fails for good (after the openai client's
own retries), the gather raises: the whole batch counts as failed (generation None), and the batch's other requests,
still running, overlap the next batch, so more than N can then be in flight.

  --mode pipeline (default): the way distilabel is used: Pipeline(LoadDataFromDicts(batch_size=N) >>
      ChatGeneration(llm=OpenAILLM(...), input_batch_size=N)), one replica, run(use_cache=False) in a fresh
      cache dir; steps run in forked worker processes and the result is read back from the Distiset.
  --mode llm: the same LLM without the pipeline: llm.generate_outputs() on consecutive slices of N inputs (what the
      ChatGeneration step does per batch), to separate the batching from the pipeline's own overhead.

The full system+user message list is sent (ChatGeneration's `messages` input), with max_tokens = --max-tokens
(distilabel's `max_new_tokens`) and OpenAILLM's other defaults (temperature 1.0, top_p 1.0, openai client
max_retries=6, timeout=120). distilabel has no per-row seed and no client-side rate limiter: the request carries no
seed, and --max-requests-per-minute / --max-tokens-per-minute are accepted for a common command line but ignored
(noted in the JSON as "ignored").

At the end one JSON line goes to stdout: {"tool": "distilabel", "version", "n", "ok", "failed", "wall_s", "import_s",
...}. wall_s runs from just before the first HTTP request is sent to the last answer (time.perf_counter, taken around
httpx.AsyncClient.send, which the openai client calls once per HTTP attempt, in whichever process sends it: the
counters live in shared memory inherited by distilabel's forked workers, and perf_counter is the system-wide
monotonic clock); run_s is the whole pipeline.run() (or generation loop) including distilabel's process start-up and
Distiset writing. `sent` counts HTTP attempts (retries included), `client_max_in_flight` the most at once.

Offline: HOME, DISTILABEL_CACHE_DIR and the pipeline cache are a fresh temporary dir per run; Hugging Face libraries
are offline; a socket guard refuses (at once, logged to stderr) any connection or DNS lookup other than loopback and
the server's host, so nothing can block on the network. Everything the tool prints goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

TOOL = "distilabel"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True, help="OpenAI-compatible base URL, e.g. http://127.0.0.1:PORT/v1")
    parser.add_argument("--prompts", required=True, type=Path, help='JSONL of {"messages": [...], "seed": int}')
    parser.add_argument("--concurrency", required=True, type=int, help="input_batch_size: requests sent at once")
    parser.add_argument("--max-requests-per-minute", type=int, default=None, help="ignored: distilabel has no limiter")
    parser.add_argument("--max-tokens-per-minute", type=int, default=None, help="ignored: distilabel has no limiter")
    parser.add_argument("--max-tokens", type=int, default=320, help="max_new_tokens per completion")
    parser.add_argument("--mode", choices=("pipeline", "llm"), default="pipeline")
    parser.add_argument("--model", default="sim")
    parser.add_argument("--api-key", default="sk-bench")
    parser.add_argument("--keep", action="store_true", help="keep the temporary working dir (its path goes to stderr)")
    return parser.parse_args()


def log(*parts: object) -> None:
    print(f"[{TOOL}_client]", *parts, file=sys.stderr, flush=True)


def stdout_to_stderr() -> int:
    """Point fd 1 (and so sys.stdout and every forked worker) at stderr; return a duplicate of the real stdout."""
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


def offline_environment(home: Path) -> None:
    """Set the environment before the tool is imported."""
    os.environ["HOME"] = str(home)  # ~/.cache/distilabel, HF caches: all per-run, in /tmp
    os.environ["DISTILABEL_CACHE_DIR"] = str(home / "distilabel")
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # in case anything imports litellm
    os.environ["DO_NOT_TRACK"] = "1"
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost,::1"
    for name in ("OPENAI_BASE_URL", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        os.environ.pop(name, None)
        os.environ.pop(name.lower(), None)


FIRST, LAST, SENT, ANSWERED, IN_FLIGHT, MAX_IN_FLIGHT = range(6)


def install_clock():  # type: ignore[no-untyped-def]
    """Wrap httpx.AsyncClient.send (one call per HTTP attempt of the openai client) with shared-memory counters."""
    import httpx

    shared = mp.Array("d", [math.inf, -math.inf, 0, 0, 0, 0])  # fork-inherited by distilabel's workers
    send = httpx.AsyncClient.send

    async def timed_send(self, request, *args, **kwargs):  # type: ignore[no-untyped-def]
        with shared.get_lock():
            shared[FIRST] = min(shared[FIRST], time.perf_counter())
            shared[SENT] += 1
            shared[IN_FLIGHT] += 1
            shared[MAX_IN_FLIGHT] = max(shared[MAX_IN_FLIGHT], shared[IN_FLIGHT])
        answered = False
        try:
            response = await send(self, request, *args, **kwargs)
            answered = response.status_code == 200
            return response
        finally:
            with shared.get_lock():
                shared[IN_FLIGHT] -= 1
                shared[ANSWERED] += answered
                shared[LAST] = max(shared[LAST], time.perf_counter())

    httpx.AsyncClient.send = timed_send  # type: ignore[method-assign]
    return shared


def make_llm(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from distilabel.models.llms import OpenAILLM

    return OpenAILLM(
        model=args.model,
        base_url=args.base_url,
        api_key=args.api_key,
        generation_kwargs={"max_new_tokens": args.max_tokens},
    )


def run_pipeline(args: argparse.Namespace, rows: list[dict], work: Path) -> list[object]:
    from distilabel.pipeline import Pipeline
    from distilabel.steps import LoadDataFromDicts
    from distilabel.steps.tasks import ChatGeneration

    with Pipeline(name="peer-throughput", cache_dir=work / "pipelines") as pipeline:
        load = LoadDataFromDicts(data=rows, batch_size=args.concurrency)
        generate = ChatGeneration(llm=make_llm(args), input_batch_size=args.concurrency)
        load >> generate
    distiset = pipeline.run(use_cache=False)
    return list(distiset["default"]["train"]["generation"])


def run_llm(args: argparse.Namespace, rows: list[dict]) -> list[object]:
    llm = make_llm(args)
    llm.load()
    kwargs = llm.get_generation_kwargs()  # {"max_new_tokens": ...}, as ChatGeneration.process passes them
    texts: list[object] = []
    for start in range(0, len(rows), args.concurrency):
        batch = [row["messages"] for row in rows[start : start + args.concurrency]]
        try:
            outputs = llm.generate_outputs(inputs=batch, num_generations=1, **kwargs)
            texts.extend(output["generations"][0] for output in outputs)
        except Exception as exc:  # one failure fails the gather: the batch is lost, as in a pipeline step
            log(f"batch at {start} failed: {exc.__class__.__name__}: {exc}")
            texts.extend([None] * len(batch))
    return texts


def main() -> None:
    args = parse_args()
    real_stdout = stdout_to_stderr()
    work = Path(tempfile.mkdtemp(prefix="bench_distilabel_"))
    blocked = guard_network(urlparse(args.base_url).hostname or "127.0.0.1")
    offline_environment(work)
    rows = [json.loads(line) for line in args.prompts.read_text().splitlines() if line.strip()]
    rows = [{"messages": [{"role": m["role"], "content": m["content"]} for m in row["messages"]]} for row in rows]
    ignored = [name for name in ("max_requests_per_minute", "max_tokens_per_minute") if getattr(args, name)]
    if ignored:
        log(f"distilabel has no client-side rate limiter: ignoring {', '.join(ignored)}")

    started = time.perf_counter()
    import distilabel
    from distilabel.models.llms import OpenAILLM  # noqa: F401
    from distilabel.pipeline import Pipeline  # noqa: F401
    from distilabel.steps import LoadDataFromDicts  # noqa: F401
    from distilabel.steps.tasks import ChatGeneration  # noqa: F401

    import_s = time.perf_counter() - started
    shared = install_clock()

    run_started = time.perf_counter()
    error = None
    try:
        texts = run_pipeline(args, rows, work) if args.mode == "pipeline" else run_llm(args, rows)
    except Exception as exc:
        log(f"distilabel raised {exc.__class__.__name__}: {exc}")
        texts, error = [], f"{exc.__class__.__name__}: {exc}"
    run_s = time.perf_counter() - run_started

    ok = sum(1 for text in texts if isinstance(text, str) and text.strip())
    report = {
        "tool": TOOL,
        "version": distilabel.__version__,
        "n": len(rows),
        "ok": ok,
        "failed": len(rows) - ok,
        "wall_s": round(shared[LAST] - shared[FIRST], 4) if shared[SENT] else None,
        "import_s": round(import_s, 4),
        "run_s": round(run_s, 4),
        "concurrency": args.concurrency,
        "mode": args.mode,
        "sent": int(shared[SENT]),
        "client_max_in_flight": int(shared[MAX_IN_FLIGHT]),
        "network_blocked": len(blocked),
    }
    if ignored:
        report["ignored"] = ignored
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
