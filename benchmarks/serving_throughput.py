"""Generation against an OpenAI-compatible server: synthloop next to Bespoke Curator and distilabel, on the same
local server (tests/sim_server.py, its own process) in the same run.

    .venv/bin/python benchmarks/serving_throughput.py [--scenario heavy|zero|rpm|http|profile|all] [--million]
        [--peer-python .venv-bench/bin/python]

Scenarios:
  heavy  lognormal latency (median 1 s, shape 0.6), 1,024 server slots: n = 4,000 at concurrency 64 and 256,
         n = 20,000 at 1,024; synthloop with the default generate.batch_size and with 1,000.
  zero   the server answers at once: n = 20,000 at concurrency 256 (client CPU per request, peak RSS);
         --million adds synthloop alone at n = 1,000,000 (peak RSS must not grow with n).
  rpm    a server limited to 600 requests/minute (429 with Retry-After; median 1 s): synthloop with the limit
         configured, synthloop with none (adaptive), the same with the server's x-ratelimit headers, Curator with it.
  http   the HTTP client choice: the same request loop on aiohttp and on httpx, client CPU per request.
  profile  `synthloop generate` under cProfile against the zero-latency server (n = 20,000, concurrency 256): its
         own time by part of the path (HTTP, JSON, recipe parse and word check, journal and Parquet, the collapse
         guard, imports) and the 15 functions with the most own time. Not part of "all" (cProfile slows the run).

Columns: wall = the server's span from the first request to the last answer (client start-up excluded; the
process's own wall time is beside it); bound = Little's law, the sum of the server's latencies / concurrency;
ideal = the makespan of a zero-overhead client sending the same latencies in the same order with the same
concurrency (what any client could reach: a heavy tail leaves slots idle at the end of a run); CPU = user + sys of
the client process / n, start-up included; RSS = the client's peak resident memory; 429s = answered 429 by the
server. synthloop runs `synthloop generate` with the collapse guard of the main config (configs/tinystories.toml).
Peers run in an interpreter that has them (`make bench-setup` makes .venv-bench; they conflict with synthloop's
pins), skipped with a note when missing. Curator's start-up probe (a request with no messages) is not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SERVER = ROOT / "tests" / "sim_server.py"
PEERS = {
    "curator": ROOT / "benchmarks" / "peers" / "curator_client.py",
    "distilabel": ROOT / "benchmarks" / "peers" / "distilabel_client.py",
}
GUARD = ROOT.parent / "shared" / "corpora" / "tinystories_sample.jsonl"


@dataclass
class Run:
    client: str
    n: int
    concurrency: int
    note: str = ""
    process_s: float = 0.0
    cpu_s: float = 0.0
    rss_mib: float = 0.0
    ok: int = 0
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def span(self) -> float:
        first, last = self.stats.get("first"), self.stats.get("last")
        return (last - first) if first is not None and last is not None else float("nan")

    @property
    def bound(self) -> float:
        return float(self.stats.get("latency_sum", 0.0)) / self.concurrency

    @property
    def ideal(self) -> float:
        return ideal_makespan(self.stats.get("latencies", []), self.concurrency)

    def row(self) -> dict[str, Any]:
        served, throttled = self.stats.get("served", 0), self.stats.get("throttled", 0)
        return {
            "client": self.client + (f" ({self.note})" if self.note else ""),
            "n": self.n,
            "concurrency": self.concurrency,
            "answered": self.ok,
            "wall_s": round(self.span, 2),
            "process_s": round(self.process_s, 2),
            "bound_s": round(self.bound, 2),
            "share_of_bound": round(self.bound / self.span, 3) if self.span else None,
            "ideal_s": round(self.ideal, 2),
            "share_of_ideal": round(self.ideal / self.span, 3) if self.span else None,
            "cpu_ms_per_request": round(1000 * self.cpu_s / self.n, 3),
            "peak_rss_mib": round(self.rss_mib, 1),
            "requests_per_minute": round(60 * served / self.span, 1) if self.span else None,
            "answered_429": throttled,
            "share_429": round(throttled / (served + throttled), 4) if served + throttled else 0.0,
        }


def ideal_makespan(latencies: list[float], concurrency: int) -> float:
    """When the last request would end if each were sent the moment a slot freed, in the same order."""
    slots: list[float] = []
    for latency in latencies:
        start = heapq.heappop(slots) if len(slots) >= concurrency else 0.0
        heapq.heappush(slots, start + latency)
    return max(slots, default=0.0)


class Server:
    """tests/sim_server.py in its own process (its CPU is not the client's)."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(SERVER), *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip()
        self.root = self.url.removesuffix("/v1")

    def call(self, path: str, method: str = "GET") -> dict[str, Any]:
        request = urllib.request.Request(self.root + path, method=method, data=b"" if method == "POST" else None)
        with urllib.request.urlopen(request, timeout=60) as answer:
            return dict(json.loads(answer.read()))

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.kill()
        self.process.wait()


def measured(command: list[str], env: dict[str, str], log: Path) -> tuple[float, float, float, str]:
    """(process wall s, user+sys s, peak RSS MiB, stdout) of one client process."""
    started = time.perf_counter()
    with open(log, "w") as errors:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, env=env, text=True)
        assert process.stdout is not None
        output = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{command[1:3]} exited {process.returncode}: see {log}")
    return time.perf_counter() - started, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, output


def write_prompts(work: Path, n: int) -> Path:
    """The prompts synthloop sends (the main recipe, seed 0), for the peers to send too."""
    sys.path.insert(0, str(ROOT / "src"))
    from synthloop.config import load_config
    from synthloop.generate.runner import build_recipe
    from synthloop.vocab import load_vocabulary

    recipe = build_recipe(load_config(None), load_vocabulary(None))
    path = work / f"prompts-{n}.jsonl"
    if not path.exists():
        with open(path, "w", encoding="utf-8") as handle:
            for index in range(n):
                record = recipe.render(index)
                handle.write(json.dumps({"messages": recipe.messages(record), "seed": record.seed}) + "\n")
    return path


def synthloop_config(
    work: Path, url: str, n: int, concurrency: int, options: dict[str, Any], batch: int | None
) -> Path:
    backend = "".join(f"{key} = {json.dumps(value)}\n" for key, value in options.items())
    path = work / f"synthloop-{n}-{concurrency}-{time.monotonic_ns()}.toml"
    path.write_text(
        f'[run]\nn = {n}\nseed = 0\nout = "{path.with_suffix("")}"\n[recipe]\nname = "tinystories"\n'
        f'[backend]\nname = "openai"\n[backend.options]\nbase_url = "{url}"\nmodel = "sim"\n'
        f"concurrency = {concurrency}\n{backend}"
        f"[generate]\nprogress = false\n{f'batch_size = {batch}' if batch else ''}\n"
        f'[guard]\nreference = "{GUARD}"\nwindow = 200\ncheck_every = 24\nmin_stories = 24\n',
        encoding="utf-8",
    )
    return path


def run_synthloop(
    server: Server, work: Path, n: int, concurrency: int, note: str = "", batch: int | None = None, **options: Any
) -> Run:
    config = synthloop_config(work, server.url, n, concurrency, options, batch)
    server.call("/reset", "POST")
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT / "src"))
    command = [sys.executable, "-m", "synthloop.cli", "generate", "--config", str(config), "--json"]
    wall, cpu, rss, output = measured(command, env, config.with_suffix(".log"))
    summary = json.loads(output)
    return Run("synthloop", n, concurrency, note, wall, cpu, rss, int(summary.get("stories", 0)), server.call("/stats"))


def run_peer(
    name: str,
    python: str,
    server: Server,
    prompts: Path,
    n: int,
    concurrency: int,
    note: str = "",
    rpm: int | None = None,
) -> Run:
    server.call("/reset", "POST")
    command = [
        python,
        str(PEERS[name]),
        "--base-url",
        server.url,
        "--prompts",
        str(prompts),
        "--concurrency",
        str(concurrency),
    ] + (["--max-requests-per-minute", str(rpm)] if rpm else [])
    wall, cpu, rss, output = measured(command, dict(os.environ), prompts.with_name(f"{name}-{n}-{concurrency}.log"))
    result = json.loads(output.strip().splitlines()[-1])
    return Run(name, n, concurrency, note, wall, cpu, rss, int(result.get("ok", 0)), server.call("/stats"))


def peers_available(python: str) -> list[str]:
    found = []
    for name, module in (("curator", "bespokelabs.curator"), ("distilabel", "distilabel")):
        probe = subprocess.run(
            [python, "-c", f"import importlib.util as u; assert u.find_spec('{module}')"], capture_output=True
        )
        if probe.returncode == 0:
            found.append(name)
        else:
            print(f"note: {name} is not installed for {python} (make bench-setup); skipped", file=sys.stderr)
    return found


def heavy(work: Path, peers: list[str], python: str) -> list[Run]:
    runs = []
    with Server("--median", "1.0", "--shape", "0.6", "--slots", "1024") as server:
        for n, concurrency in ((4000, 64), (4000, 256), (20000, 1024)):
            runs.append(run_synthloop(server, work, n, concurrency, "batch_size 8 (default)"))
            runs.append(run_synthloop(server, work, n, concurrency, "batch_size 1000", batch=1000))
            prompts = write_prompts(work, n)
            runs += [run_peer(name, python, server, prompts, n, concurrency) for name in peers]
    return runs


def zero(work: Path, peers: list[str], python: str, million: bool) -> list[Run]:
    runs = []
    with Server("--median", "0") as server:
        runs.append(run_synthloop(server, work, 20000, 256))
        prompts = write_prompts(work, 20000)
        runs += [run_peer(name, python, server, prompts, 20000, 256) for name in peers]
        if million:
            runs.append(run_synthloop(server, work, 1_000_000, 256))
    return runs


def rpm(work: Path, peers: list[str], python: str) -> list[Run]:
    runs, n = [], 1000
    with Server("--median", "1.0", "--shape", "0.6", "--rpm", "600") as server:
        runs.append(run_synthloop(server, work, n, 64, "limit 600 configured", max_requests_per_minute=600))
        runs.append(run_synthloop(server, work, n, 64, "no limit: adaptive"))
        if "curator" in peers:
            runs.append(run_peer("curator", python, server, write_prompts(work, n), n, 64, "limit 600", rpm=600))
    with Server("--median", "1.0", "--shape", "0.6", "--rpm", "600", "--headers") as server:
        runs.append(run_synthloop(server, work, n, 64, "no limit, server sends x-ratelimit headers"))
    return runs


async def http_loop(client: str, url: str, n: int, concurrency: int) -> None:
    body = json.dumps({"model": "sim", "messages": [{"role": "user", "content": "words: cat, run, big"}], "seed": 1})
    semaphore = asyncio.Semaphore(concurrency)
    if client == "aiohttp":
        import aiohttp

        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

            async def one() -> None:
                async with semaphore, session.post(url, data=body.encode()) as response:
                    json.loads(await response.read())

            await asyncio.gather(*(one() for _ in range(n)))
        return
    import httpx

    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=concurrency)) as session:

        async def one_httpx() -> None:
            async with semaphore:
                (await session.post(url, content=body.encode())).json()

        await asyncio.gather(*(one_httpx() for _ in range(n)))


def http(work: Path) -> list[dict[str, Any]]:
    rows = []
    with Server("--median", "0") as server:
        for client in ("aiohttp", "httpx"):
            n = 5000
            cpu, started = time.process_time(), time.perf_counter()
            asyncio.run(http_loop(client, server.url + "/chat/completions", n, 256))
            rows.append(
                {
                    "client": client,
                    "n": n,
                    "concurrency": 256,
                    "wall_s": round(time.perf_counter() - started, 2),
                    "cpu_ms_per_request": round(1000 * (time.process_time() - cpu) / n, 3),
                }
            )
    return rows


# Where a function's own time goes, by the first matching part of its file's path.
AREAS = (
    ("synthloop/backends/", "request build, rate limits (backends/)"),
    ("synthloop/execute/", "engine, shard journals (execute/)"),
    ("synthloop/generate/", "generate step: parse, word check, cost (generate/)"),
    ("synthloop/recipes/", "recipe render and parse (recipes/)"),
    ("synthloop/vocab/", "word forms (vocab/)"),
    ("synthloop/metrics/", "collapse guard (metrics/)"),
    ("synthloop/guard", "collapse guard (metrics/)"),
    ("synthloop/store/", "Parquet and journal writes (store/)"),
    ("synthloop/", "synthloop, other"),
    ("aiohttp/", "HTTP (aiohttp, yarl, multidict)"),
    ("yarl/", "HTTP (aiohttp, yarl, multidict)"),
    ("multidict/", "HTTP (aiohttp, yarl, multidict)"),
    ("json/", "JSON"),
    ("~", "builtins (JSON encode/decode, socket calls, ...)"),
    ("asyncio/", "event loop (asyncio, selectors)"),
    ("selectors", "event loop (asyncio, selectors)"),
    ("pyarrow/", "Parquet (pyarrow)"),
    ("<frozen importlib", "imports"),
)


def profile(work: Path) -> list[dict[str, Any]]:
    """synthloop generate under cProfile: own time by area of the path, then the top functions."""
    n, concurrency = 20000, 256
    with Server("--median", "0") as server:
        config = synthloop_config(work, server.url, n, concurrency, {}, None)
        server.call("/reset", "POST")
        env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT / "src"))
        output = work / "generate.prof"
        command = [sys.executable, "-m", "cProfile", "-o", str(output), "-m", "synthloop.cli", "generate"]
        measured([*command, "--config", str(config), "--json"], env, config.with_suffix(".log"))
    stats = pstats.Stats(str(output)).stats  # type: ignore[attr-defined]
    areas: dict[str, float] = {}
    functions = []
    for (filename, line, name), (_, _, own, _, _) in stats.items():
        area = next((label for prefix, label in AREAS if prefix in filename), "other")
        areas[area] = areas.get(area, 0.0) + own
        functions.append((own, f"{filename.split('site-packages/')[-1].split('src/')[-1]}:{line}({name})"))
    total = sum(areas.values())
    rows = [
        {"part": area, "own ms/request": round(1000 * own / n, 3), "share": f"{100 * own / total:.1f} %"}
        for area, own in sorted(areas.items(), key=lambda item: -item[1])
    ]
    rows.append({"part": "all (under cProfile)", "own ms/request": round(1000 * total / n, 3), "share": "100 %"})
    for own, where in sorted(functions, reverse=True)[:15]:
        rows.append({"part": f"top: {where}", "own ms/request": round(1000 * own / n, 3), "share": ""})
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(str(row.get(key, "")) for key in keys) + " |" for row in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=("heavy", "zero", "rpm", "http", "profile", "all"), default="all")
    parser.add_argument("--million", action="store_true", help="zero: also synthloop at n = 1,000,000")
    parser.add_argument(
        "--peer-python",
        default=str(ROOT / ".venv-bench" / "bin" / "python"),
        help="the interpreter that has bespokelabs-curator and distilabel",
    )
    parser.add_argument("--json", type=Path, help="also write every row to this file")
    args = parser.parse_args()
    if args.json is not None and not args.json.parent.is_dir():
        parser.error(f"--json {args.json}: no such folder")
    python = args.peer_python if Path(args.peer_python).exists() else sys.executable
    peers = peers_available(python) if args.scenario in ("heavy", "zero", "rpm", "all") else []
    results: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="serving-") as folder:
        work = Path(folder)
        for scenario in ("http", "zero", "heavy", "rpm", "profile"):
            if args.scenario not in (scenario, "all") or (scenario == "profile" and args.scenario == "all"):
                continue
            if scenario == "http":
                results[scenario] = http(work)
            elif scenario == "profile":
                results[scenario] = profile(work)
            else:
                runs = {
                    "zero": lambda: zero(work, peers, python, args.million),
                    "heavy": lambda: heavy(work, peers, python),
                    "rpm": lambda: rpm(work, peers, python),
                }[scenario]()
                results[scenario] = [run.row() for run in runs]
            print(f"\n## {scenario}\n\n{table(results[scenario])}", flush=True)
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
