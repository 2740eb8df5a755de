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

import json
import os
import time
from pathlib import Path

from common import Clock, Run, logger, offline_environment, parse_args, read_prompts

TOOL = "curator"
HIGH_RPM = 1_000_000_000  # "no limit": Curator's defaults would otherwise be 200 RPM / 100k TPM
HIGH_TPM = 1_000_000_000_000
log = logger(TOOL)


def curator_environment(home: Path) -> str:
    """Set the environment before the tool is imported; return which tokenizer Curator will get."""
    offline_environment(home, unset=("CURATOR_VIEWER", "BESPOKE_API_KEY"))  # HOME: ~/.cache/curator, .curator_config
    os.environ["CURATOR_CACHE_DIR"] = str(home / "curator")
    os.environ["CURATOR_DISABLE_CACHE"] = "1"  # llm.py: random fingerprint, nothing read back
    os.environ["TELEMETRY_ENABLED"] = "false"  # telemetry/client.py: PosthogClient.capture returns at once
    os.environ["LITELLM_TELEMETRY"] = "False"
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


def main() -> None:
    args = parse_args(
        __doc__.splitlines()[0],
        concurrency_help="most requests in flight at once",
        rpm_help="Curator RPM limit (default: none)",
        tpm_help="Curator TPM limit (default: none)",
        max_tokens_help="max_tokens per completion",
    )
    run = Run(TOOL, args, log)
    tokenizer = curator_environment(run.work)
    rows = read_prompts(args.prompts)

    started = time.perf_counter()
    import bespokelabs.curator as curator
    import posthog
    from bespokelabs.curator.request_processor.online import openai_online_request_processor as oai
    from datasets import Dataset

    import_s = time.perf_counter() - started
    posthog.disabled = True  # belt and braces: TELEMETRY_ENABLED=false already stops every capture

    clock = Clock()
    # call_single_request looks fetch_response up in this module at call time
    oai.fetch_response = clock.timed(
        oai.fetch_response, lambda response: isinstance(response, dict) and "choices" in response
    )

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

    def generate() -> list[object]:
        result = llm(dataset, working_dir=str(run.work / "run"))
        return [r for r in result.dataset["response"]] if "response" in result.dataset.column_names else []

    outcome = run.generate(generate)
    run.report(
        version=curator.__version__, n=len(rows), outcome=outcome, clock=clock, import_s=import_s, tokenizer=tokenizer
    )


if __name__ == "__main__":
    main()
