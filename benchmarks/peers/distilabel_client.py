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
import os
import time
from pathlib import Path

from common import Clock, Run, logger, offline_environment, parse_args, read_prompts

TOOL = "distilabel"
log = logger(TOOL)


def distilabel_environment(home: Path) -> None:
    """Set the environment before the tool is imported."""
    offline_environment(home)  # HOME: ~/.cache/distilabel, HF caches
    os.environ["DISTILABEL_CACHE_DIR"] = str(home / "distilabel")
    os.environ["TRANSFORMERS_OFFLINE"] = "1"


def install_clock() -> Clock:
    """Wrap httpx.AsyncClient.send (one call per HTTP attempt of the openai client) with shared-memory counters."""
    import httpx

    clock = Clock(shared=True)  # fork-inherited by distilabel's workers
    httpx.AsyncClient.send = clock.timed(  # type: ignore[method-assign, assignment]
        httpx.AsyncClient.send, lambda response: response.status_code == 200
    )
    return clock


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
    args = parse_args(
        __doc__.splitlines()[0],
        concurrency_help="input_batch_size: requests sent at once",
        rpm_help="ignored: distilabel has no limiter",
        tpm_help="ignored: distilabel has no limiter",
        max_tokens_help="max_new_tokens per completion",
        more=lambda parser: parser.add_argument("--mode", choices=("pipeline", "llm"), default="pipeline"),
    )
    run = Run(TOOL, args, log)
    distilabel_environment(run.work)
    rows = read_prompts(args.prompts)
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
    clock = install_clock()

    outcome = run.generate(
        lambda: run_pipeline(args, rows, run.work) if args.mode == "pipeline" else run_llm(args, rows)
    )
    run.report(
        version=distilabel.__version__,
        n=len(rows),
        outcome=outcome,
        clock=clock,
        import_s=import_s,
        mode=args.mode,
        **({"ignored": ignored} if ignored else {}),
    )


if __name__ == "__main__":
    main()
