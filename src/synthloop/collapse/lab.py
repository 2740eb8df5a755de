"""`synthloop collapse`: recursive training on a model's own output, per regime (Shumailov et al., Nature 2024;
Gerstgrasser et al., 2024; Feng et al., 2024).

Generation 0 trains on real documents (real stories cut into ~`document_words`-word pieces; whole stories are held
out for perplexity). Each later generation k trains a fresh model, from the same initial seed and tokenizer, on:
  replace            the corpus sampled from generation k-1 (same size as the real training set)
  accumulate         the real documents and every sampled corpus so far
  accumulate-scaled  the same, with training steps scaled by its size: steps x len(data) / documents, so every
                     document is seen as often as in generation 0 (a fixed budget over growing data is not)
  mix:f              the corpus sampled from generation k-1 plus f x its size in real documents
and then samples its own corpus. "+curate" / "+quality" after a regime verifies each generation's samples first
(collapse/verify.py): the next generation trains on `documents` kept samples, drawn in as many rounds as needed.
Each generation's samples also get the live guard's verdict against the real documents (generate/guard.py).
Every generation's folder holds its training set, model, samples and metrics; `metrics.json` is written last
(atomically) and marks the generation done, so a killed lab resumes at the first unfinished generation (training
itself resumes from its checkpoint, verification from its last complete round).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic_core import to_jsonable_python

from synthloop.collapse.config import LabConfig, parse_regime
from synthloop.collapse.verify import KEPT_FILE, Verifier, verify
from synthloop.errors import UserError
from synthloop.metrics.collapse import Reference, indicators
from synthloop.records import stable_id
from synthloop.store.atomic import atomic_write_json
from synthloop.store.claim import claim
from synthloop.store.jsonl import read_jsonl, write_jsonl
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


def read_rows(path: Path) -> list[dict[str, Any]]:
    return [row for _, row in read_jsonl(path)]


def sample_rows(texts: list[str], generation: int, regime: str) -> list[dict[str, Any]]:
    """Samples of the generation-k model carry generation k (lineage); real documents carry none."""
    return [
        {"id": stable_id(regime, generation, i, t), "text": t, "generation": generation, "regime": regime}
        for i, t in enumerate(texts)
    ]


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
        from synthloop.config import load_config

        self.guard_config = load_config(cfg.curate_config).guard  # the bounds generation uses (its [guard])
        names = {parse_regime(r).verifier for r in cfg.regimes} - {None}
        self.verifiers = {name: Verifier(name, cfg, self.real) for name in sorted(n for n in names if n)}

    def check_folder(self) -> None:
        settings = self.cfg.model_dump(mode="json")
        # A setting newer than the folder's lab.json counts as unchanged while it has its default.
        defaults = {
            name: field.get_default(call_default_factory=True)
            for name, field in LabConfig.model_fields.items()
            if not field.is_required()
        }
        claim(self.out, "collapse lab", settings, "lab.json", defaults=to_jsonable_python(defaults))
        atomic_write_json(self.out / "lab.json", settings, indent=1)

    def run(self) -> dict[str, Any]:
        self.check_folder()
        started = time.perf_counter()
        tokenizer = self.out / "tokenizer.json"
        if not tokenizer.exists():
            from synthloop.train.tokenizer import save_tokenizer, train_tokenizer

            save_tokenizer(train_tokenizer(self.real, self.cfg.vocab_size), tokenizer)
        real = [{"text": t} for t in self.real]
        base = self.generation(self.out / "gen-0", 0, "real", real, self.cfg.steps)
        results: dict[str, Any] = {"real": indicators(self.real, self.reference), "generation_0": base, "regimes": {}}
        for regime in self.cfg.regimes:
            results["regimes"][regime] = self.regime(regime, real, base)
        results["verifiers"] = {name: v.settings for name, v in self.verifiers.items()}
        results["wall_s"] = time.perf_counter() - started
        atomic_write_json(self.out / "metrics.json", results, indent=1, sort_keys=False)
        return results

    def regime(self, regime: str, real: list[dict[str, Any]], base: dict[str, Any]) -> list[dict[str, Any]]:
        spec = parse_regime(regime)
        cfg = self.cfg
        rows: list[dict[str, Any]] = []
        seen = [real]  # the real documents, then each generation's output (verified where the regime verifies)
        for k in range(cfg.generations):
            folder = self.out / "gen-0" if k == 0 else self.out / regime.replace(":", "-") / f"gen-{k}"
            if k == 0:
                row = base
            else:
                output = seen[-1]
                if spec.name == "replace":
                    data = output
                elif spec.name.startswith("accumulate"):
                    data = [doc for corpus in seen for doc in corpus]
                else:
                    count = min(len(self.real_spare), round(spec.fraction * len(output)))
                    added = random.Random(cfg.seed + k).sample(self.real_spare, count)
                    data = output + [{"text": t} for t in added]
                scaled = spec.name == "accumulate-scaled"
                steps = max(1, round(cfg.steps * len(data) / cfg.documents)) if scaled else cfg.steps
                row = self.generation(folder, k, regime, data, steps)
            if spec.verifier is None:
                seen.append(read_rows(folder / "samples.jsonl"))
            else:
                last = k == cfg.generations - 1  # nothing trains on the last samples: verify, do not oversample
                row = row | {"verification": self.verified(folder, k, regime, spec.verifier, 0 if last else None)}
                seen.append(read_rows(folder / f"verified-{spec.verifier}" / KEPT_FILE))
            rows.append(row)
        return rows

    def verified(self, folder: Path, k: int, regime: str, name: str, target: int | None) -> dict[str, Any]:
        from synthloop.train.sample import load_model, sample_batch

        cfg = self.cfg
        loaded: list[Any] = []

        def draw(count: int, seed: int) -> list[str]:
            if not loaded:
                loaded.append(load_model(folder / "model", "cpu"))
            self.log(f"collapse: {regime} generation {k}: drawing {count} more samples to verify ({name})")
            return sample_batch(
                loaded[0], count, cfg.sample_tokens, cfg.temperature, cfg.top_k, seed=seed, batch_size=256
            )

        first = read_rows(folder / "samples.jsonl")
        lineage = {"generation": k, "regime": "real" if k == 0 else regime}
        cap = round(cfg.oversample_cap * cfg.documents)
        summary = verify(
            folder / f"verified-{name}",
            self.verifiers[name],
            first,
            draw,
            cfg.documents if target is None else target,
            cap,
            lineage,
            cfg.seed,
        )
        if target is None and not summary["used"]:
            raise UserError(
                f"{regime} generation {k}: the {name} verifier kept none of {summary['drawn']} samples "
                f"(reasons: {', '.join(list(summary['reasons'])[:3])}); nothing to train generation "
                f"{k + 1} on: relax verifier_options or quality_keeps_real"
            )
        return summary

    def generation(self, folder: Path, k: int, regime: str, data: list[dict[str, Any]], steps: int) -> dict[str, Any]:
        """One generation, each part resumable on its own: train on `data`, sample a corpus, measure both.
        Its metrics.json, written last, marks it done."""
        done = folder / "metrics.json"
        if done.exists():
            return dict(json.loads(done.read_text()))
        self.log(f"collapse: {regime} generation {k}: training on {len(data)} documents ({steps} steps)")
        started = time.perf_counter()
        model, validation_loss = self.train_model(folder, data, steps)
        samples = self.draw_samples(folder, model, k, regime)
        metrics = self.measure(model, samples, k, regime, validation_loss)
        metrics |= {
            "steps": steps,
            "train_documents": len(data),
            "guard": self.guard(folder, samples),
            "seconds": round(time.perf_counter() - started, 1),
        }  # this session's (less after a resume)
        atomic_write_json(done, metrics, indent=1, sort_keys=False)
        return metrics

    def train_model(self, folder: Path, data: list[dict[str, Any]], steps: int) -> tuple[Any, float]:
        """A fresh model (same seed and tokenizer every generation) trained on `data`; training resumes from its
        checkpoint. Returns the model and its validation loss."""
        from synthloop.train.config import TrainConfig
        from synthloop.train.loop import train
        from synthloop.train.sample import load_model

        folder.mkdir(parents=True, exist_ok=True)
        if not (folder / "train.jsonl").exists():
            write_jsonl(folder / "train.jsonl", data)
        cfg = self.cfg
        run = train(
            TrainConfig(
                sources=[str(folder / "train.jsonl")],
                out=folder / "model",
                preset=cfg.preset,
                tokenizer=self.out / "tokenizer.json",
                max_steps=steps,
                batch_size=cfg.batch_size,
                learning_rate=cfg.learning_rate,
                min_learning_rate=cfg.learning_rate / 10,
                warmup_steps=min(20, steps // 5),
                eval_every=max(1, steps // 4),
                checkpoint_every=max(1, steps // 4),
                seed=cfg.seed,
                device="cpu",
                threads=cfg.threads,
                progress=False,
            )
        )
        return load_model(folder / "model", "cpu"), run.validation_loss

    def draw_samples(self, folder: Path, model: Any, k: int, regime: str) -> list[str]:
        """The generation's own corpus (as many documents as the real training set), sampled once and kept."""
        from synthloop.train.sample import sample_batch

        cfg = self.cfg
        if not (folder / "samples.jsonl").exists():
            samples = sample_batch(
                model,
                cfg.documents,
                cfg.sample_tokens,
                cfg.temperature,
                cfg.top_k,
                seed=cfg.seed * 1000 + k,
                batch_size=256,
            )
            write_jsonl(folder / "samples.jsonl", sample_rows(samples, k, regime))
        return read_texts(folder / "samples.jsonl")

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

    def guard(self, folder: Path, samples: list[str]) -> dict[str, Any]:
        """The live guard's verdict on these samples against the real training documents: the samples come from one
        model, so one check, over the newest `window` of them (the [guard] window, 500 by default) against a
        same-size sample of the real documents, as the guard's last check of a run; it is kept in guard.json."""
        from synthloop.generate.guard import CollapseGuard
        from synthloop.records import Record

        texts = [t for t in samples if t.strip()]
        window = max(20, min(self.guard_config.window, len(texts)))
        cfg = self.guard_config.model_copy(
            update={
                "reference": self.out / "gen-0" / "train.jsonl",
                "window": window,
                "check_every": window,
                "min_stories": min(self.guard_config.min_stories, window),
                "action": "warn",
            }
        )
        guard = CollapseGuard(cfg, folder, warn=lambda message: None)
        guard.observe([Record(id=str(i), text=t, finish_reason="stop") for i, t in enumerate(texts)])
        summary = guard.finish()
        if summary is None:
            return {"verdict": "none", "checks": 0, "failed_checks": 0, "violations": []}
        return {
            "verdict": summary["verdict"],
            "checks": summary["checks"],
            "failed_checks": summary["failed_checks"],
            **summary["last"],
        }


def run_lab(cfg: LabConfig, log: Callable[[str], None] = print) -> dict[str, Any]:
    return Lab(cfg, log).run()
