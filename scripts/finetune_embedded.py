"""Rebuild the shipped LoRA adapter of the embedded model from the TinyStories sample (reproducible, CPU).

    .venv/bin/python scripts/finetune_embedded.py --out artifacts/tune1 [--epochs 2] [--limit N] [--model NAME]

Pairs come from ../shared/corpora/tinystories_sample.jsonl minus the stories in ../shared/labels (kept apart so the
quality judge is never checked on stories the generator learnt) and minus every tenth story (held out for the
held-out loss and for decontamination checks); prompts are the main config's (the recipe's small-model template).
--written FILE adds pairs from stories written for given prompts (src/synthloop/tune/data/written_stories.jsonl:
a teacher model's answers to the main job's own prompts), once whatever --epochs, every tenth held out like the
pool's; --no-human leaves the pool out. The adapter and its card land in --out; copy them into
src/synthloop/tune/data/ to ship them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from synthloop.backends.models import DEFAULT_MODEL, MODELS, model_file
from synthloop.errors import UserError
from synthloop.recipes.tinystories import SMALL_MODEL_TEMPLATE, TinyStoriesOptions
from synthloop.store.texts import read_texts
from synthloop.tune.finetune import TuneConfig, finetune
from synthloop.tune.pairs import build_pairs, read_written_pairs
from synthloop.vocab import load_vocabulary

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT.parent / "shared" / "corpora" / "tinystories_sample.jsonl"
LABELS = ROOT.parent / "shared" / "labels" / "stories_dev.jsonl"


def split_pool(sample: list[str], labelled: set[str]) -> tuple[list[str], list[str]]:
    """(training stories, held-out stories): labelled stories are out of both; every tenth story is held out."""
    pool = [t for t in sample if t.strip()[:80] not in labelled]
    return [t for i, t in enumerate(pool) if i % 10], [t for i, t in enumerate(pool) if i % 10 == 0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the adapter, its card and checkpoints")
    parser.add_argument("--epochs", type=int, default=2, help="passes over the pool (a new word triple each)")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N training stories (0: all)")
    parser.add_argument("--rank", type=int, default=16, help="LoRA rank")
    parser.add_argument("--lr", type=float, default=3e-4, help="peak learning rate")
    parser.add_argument("--batch-size", type=int, default=8, help="pairs per optimiser step")
    parser.add_argument("--micro-batch", type=int, default=0, help="pairs per forward pass (0: the whole batch)")
    parser.add_argument("--word-weight", type=float, default=1.0, help="loss weight of the required words' tokens")
    parser.add_argument("--init", type=Path, help="continue from this adapter file")
    parser.add_argument("--seed", type=int, default=0, help="word draws and batch order")
    parser.add_argument("--model", choices=sorted(MODELS), default=DEFAULT_MODEL, help="the embedded base model")
    parser.add_argument("--gguf", type=Path, help="another base model's GGUF file (instead of --model)")
    parser.add_argument("--max-length", type=int, default=512, help="tokens of prompt + story per pair")
    parser.add_argument("--written", type=Path, help="JSONL of stories written for given words (see above)")
    parser.add_argument("--no-human", action="store_true", help="train on --written pairs only")
    args = parser.parse_args()
    if args.epochs < 1 or args.limit < 0 or args.rank < 1 or args.lr <= 0 or args.batch_size < 1:
        parser.error("--epochs, --rank and --batch-size must be >= 1, --limit >= 0 and --lr > 0")
    if args.micro_batch < 0 or args.max_length < 64:
        parser.error("--micro-batch must be >= 0 and --max-length >= 64")
    if args.gguf is not None and not args.gguf.is_file():
        parser.error(f"--gguf: {args.gguf} is not a file")
    if args.no_human and args.written is None:
        parser.error("--no-human needs --written")
    system = TinyStoriesOptions().system_prompt
    try:
        gguf = args.gguf or model_file(args.model)
        written = [] if args.written is None else read_written_pairs(args.written, SMALL_MODEL_TEMPLATE, system)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    labelled = {
        json.loads(line)["text"].strip()[:80] for line in LABELS.read_text(encoding="utf-8").split("\n") if line.strip()
    }
    train_stories, held_stories = split_pool(read_texts(SAMPLE), labelled)
    if args.limit:
        train_stories = train_stories[: args.limit]
    vocabulary = load_vocabulary()
    common = frozenset(e.word for e in vocabulary.entries if e.rank <= 300)
    train, held = [], []
    if not args.no_human:
        train = build_pairs(
            train_stories, vocabulary, SMALL_MODEL_TEMPLATE, system, seed=0, epochs=args.epochs, common=common
        )
        held = build_pairs(held_stories, vocabulary, SMALL_MODEL_TEMPLATE, system, seed=1, epochs=1, common=common)
        print(f"{len(train_stories)} training stories -> {len(train)} pairs; {len(held)} held out", flush=True)
    if written:
        train += [p for i, p in enumerate(written) if i % 10]  # once: copies of a pair would share a length batch
        held += written[::10]
        print(f"{args.written}: {len(written)} written stories, every tenth held out", flush=True)
    meta = {
        "pool": None if args.no_human else str(SAMPLE.name),
        "written": None if args.written is None else args.written.name,
        "epochs": args.epochs,
        "template": "small-model",
        "init": None if args.init is None else args.init.name,
    }
    config = TuneConfig(
        out=args.out,
        rank=args.rank,
        lr=args.lr,
        batch_size=args.batch_size,
        meta=meta,
        word_weight=args.word_weight,
        init_adapter=args.init,
        seed=args.seed,
        max_length=args.max_length,
        micro_batch=args.micro_batch,
    )
    card = finetune(gguf, train, held, config, log=lambda m: print(m, flush=True))
    print(json.dumps(card, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
