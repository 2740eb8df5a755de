"""`synthloop collapse`: recursive training on a model's own output, per regime (Shumailov et al., Nature 2024;
Gerstgrasser et al., 2024).

Generation 0 trains on real documents (real stories cut into ~`document_words`-word pieces; whole stories are held
out for perplexity). Each later generation k trains a fresh model, from the same initial seed and tokenizer, on:
  replace     the corpus sampled from generation k-1 (same size as the real training set)
  accumulate  the real documents and every sampled corpus so far
  mix:f       the corpus sampled from generation k-1 plus f x its size in real documents
and then samples its own corpus. Every generation's folder holds its training set, model, samples and metrics;
`metrics.json` is written last (atomically) and marks the generation done, so a killed lab resumes at the first
unfinished generation (training itself resumes from its checkpoint).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from synthloop.collapse.config import LabConfig, parse_regime
from synthloop.errors import UserError
from synthloop.metrics.collapse import Reference, indicators
from synthloop.records import stable_id
from synthloop.store.atomic import atomic_write_text
from synthloop.store.jsonl import read_jsonl
from synthloop.store.texts import read_texts

SAMPLE_PERPLEXITY_LIMIT = 1000  # samples scored under the generation-0 model (for the histograms)


def documents(texts: list[str], words: int) -> list[str]:
    """Real stories cut into pieces of about `words` words, at sentence ends where there is one."""
    pieces = []
    for text in texts:
        current: list[str] = []
        for word in text.split():
            current.append(word)
            sentence_end = word.endswith((".", "!", "?", '."', '!"', '?"'))
            if (len(current) >= words and sentence_end) or len(current) >= 2 * words:
                pieces.append(" ".join(current))
                current = []
        if len(current) >= words // 3:
            pieces.append(" ".join(current))
    return pieces


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    atomic_write_text(path, "\n".join(json.dumps(row) for row in rows) + "\n")


def read_rows(path: Path) -> list[dict[str, Any]]:
    return [row for _, row in read_jsonl(path)]


def sample_rows(texts: list[str], generation: int, regime: str) -> list[dict[str, Any]]:
    """Samples of the generation-k model carry generation k (lineage); real documents carry none."""
    return [{"id": stable_id(regime, generation, i, t), "text": t, "generation": generation, "regime": regime}
            for i, t in enumerate(texts)]  # fmt: skip


class Lab:
    def __init__(self, cfg: LabConfig, log: Callable[[str], None] = print) -> None:
        self.cfg = cfg
        self.log = log
        self.out = Path(cfg.out)
        self.rng = random.Random(cfg.seed)
        stories = read_texts(cfg.real)
        if len(stories) < 10:
            raise UserError(f"{cfg.real}: {len(stories)} stories; the collapse lab needs at least 10")
        order = list(range(len(stories)))
        self.rng.shuffle(order)
        held = max(1, int(len(stories) * cfg.held_out_fraction))
        self.held_out = [stories[i] for i in order[:held]]
        pool = documents([stories[i] for i in order[held:]], cfg.document_words)
        self.rng.shuffle(pool)
        if len(pool) < cfg.documents:
            raise UserError(f"{cfg.real}: only {len(pool)} documents of ~{cfg.document_words} words; lower documents")
        self.real = pool[: cfg.documents]
        self.real_spare = pool[cfg.documents :] or self.real  # real data the mix regime adds
        self.reference = Reference.from_texts(self.real)

    def check_folder(self) -> None:
        settings = self.cfg.model_dump(mode="json")
        path = self.out / "lab.json"
        if path.exists():
            previous = json.loads(path.read_text())
            if previous != settings:
                changed = sorted(k for k in settings if previous.get(k) != settings[k])
                raise UserError(f"{self.out}: holds a lab run with other settings ({', '.join(changed)}); "
                                "choose a new --out or rerun with the same settings to resume")  # fmt: skip
        elif self.out.exists() and any(self.out.iterdir()):
            raise UserError(f"{self.out}: exists and holds no collapse lab; choose a new --out")
        atomic_write_text(path, json.dumps(settings, indent=1, sort_keys=True) + "\n")

    def run(self) -> dict[str, Any]:
        self.check_folder()
        started = time.perf_counter()
        tokenizer = self.out / "tokenizer.json"
        if not tokenizer.exists():
            from synthloop.train.tokenizer import save_tokenizer, train_tokenizer

            save_tokenizer(train_tokenizer(self.real, self.cfg.vocab_size), tokenizer)
        real = [{"text": t} for t in self.real]
        base = self.generation(self.out / "gen-0", 0, "real", real)
        results: dict[str, Any] = {"real": indicators(self.real, self.reference), "generation_0": base, "regimes": {}}
        for regime in self.cfg.regimes:
            name, fraction = parse_regime(regime)
            rows = [base]
            seen = [real]
            previous = self.out / "gen-0"
            for k in range(1, self.cfg.generations):
                sampled = read_rows(previous / "samples.jsonl")
                seen.append(sampled)
                if name == "replace":
                    data = sampled
                elif name == "accumulate":
                    data = [row for corpus in seen for row in corpus]
                else:
                    count = min(len(self.real_spare), round(fraction * len(sampled)))
                    added = random.Random(self.cfg.seed + k).sample(self.real_spare, count)
                    data = sampled + [{"text": t} for t in added]
                folder = self.out / regime.replace(":", "-") / f"gen-{k}"
                rows.append(self.generation(folder, k, regime, data))
                previous = folder
            results["regimes"][regime] = rows
        results["wall_s"] = time.perf_counter() - started
        atomic_write_text(self.out / "metrics.json", json.dumps(results, indent=1) + "\n")
        return results

    def generation(self, folder: Path, k: int, regime: str, data: list[dict[str, Any]]) -> dict[str, Any]:
        done = folder / "metrics.json"
        if done.exists():
            return dict(json.loads(done.read_text()))
        from synthloop.train.config import TrainConfig
        from synthloop.train.loop import train
        from synthloop.train.sample import load_model, sample_batch

        self.log(f"collapse: {regime} generation {k}: training on {len(data)} documents")
        folder.mkdir(parents=True, exist_ok=True)
        if not (folder / "train.jsonl").exists():
            write_jsonl(folder / "train.jsonl", data)
        cfg = self.cfg
        run = train(TrainConfig(sources=[str(folder / "train.jsonl")], out=folder / "model", preset=cfg.preset,
                                tokenizer=self.out / "tokenizer.json", max_steps=cfg.steps, batch_size=cfg.batch_size,
                                learning_rate=cfg.learning_rate, min_learning_rate=cfg.learning_rate / 10,
                                warmup_steps=min(20, cfg.steps // 5), eval_every=max(1, cfg.steps // 4),
                                checkpoint_every=max(1, cfg.steps // 4), seed=cfg.seed, device="cpu",
                                threads=cfg.threads, progress=False))  # fmt: skip
        model = load_model(folder / "model", "cpu")
        if not (folder / "samples.jsonl").exists():
            samples = sample_batch(model, cfg.documents, cfg.sample_tokens, cfg.temperature, cfg.top_k,
                                   seed=cfg.seed * 1000 + k, batch_size=256)  # fmt: skip
            write_jsonl(folder / "samples.jsonl", sample_rows(samples, k, regime))
        samples = read_texts(folder / "samples.jsonl")
        metrics = self.measure(model, samples, k, regime, run.validation_loss)
        atomic_write_text(done, json.dumps(metrics, indent=1) + "\n")
        return metrics

    def measure(self, model: Any, samples: list[str], k: int, regime: str, validation_loss: float) -> dict[str, Any]:
        from synthloop.train.evaluate import per_text_perplexity, perplexity
        from synthloop.train.sample import load_model

        base = model if k == 0 else load_model(self.out / "gen-0" / "model", "cpu")
        per_sample = per_text_perplexity(base, [t for t in samples[:SAMPLE_PERPLEXITY_LIMIT] if t.strip()])
        ordered = sorted(per_sample)

        def quantile(q: float) -> float:
            return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")

        return {
            "generation": k,
            "regime": regime,
            "validation_loss": validation_loss,
            "real_perplexity": perplexity(model, self.held_out)["perplexity"],
            "samples_under_gen0": {
                "mean": sum(ordered) / len(ordered) if ordered else float("nan"),
                "p10": quantile(0.1),
                "p50": quantile(0.5),
                "p90": quantile(0.9),
                "p99": quantile(0.99),
                "values": [round(v, 3) for v in per_sample],
            },
            **indicators(samples, self.reference, top=300),
            "examples": samples[:3],
        }


def run_lab(cfg: LabConfig, log: Callable[[str], None] = print) -> dict[str, Any]:
    return Lab(cfg, log).run()
