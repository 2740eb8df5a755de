"""`synthloop eval`: held-out perplexity, completions of story beginnings, constraint following, and optional
grading of the completions by any backend with a GPT-Eval-style rubric (TinyStories §4: grammar, creativity,
consistency, plot, each out of 10)."""

from __future__ import annotations

import math
import re
from importlib import resources
from pathlib import Path
from typing import Any

from synthloop.backends.base import Backend, Prompt
from synthloop.store.jsonl import split_lines
from synthloop.store.texts import read_texts
from synthloop.train.sample import LoadedModel, generate
from synthloop.vocab.inflection import missing_words

RUBRIC = (
    "The following exercise, the student is given a beginning of a story. The student needs to complete it into a "
    "full story. The exercise tests the student's language abilities and creativity. The symbol *** marks the "
    "separator between the prescribed beginning and the student's completion:\n\n{beginning}***{completion}\n\n"
    "Please provide your general assessment about the part written by the student (the one after the *** symbol). "
    "Then grade the student's completion in terms of grammar, creativity, consistency with the story's beginning "
    "and whether the plot makes sense, each as a whole number out of 10, on lines of the form 'Grammar: 8/10'."
)
SCORE = re.compile(
    r"(grammar|creativity|consistency|plot)\**\s*[:=\-]\s*\**\s*(\d+(?:\.\d+)?)\s*(?:/\s*10|out of 10)?", re.IGNORECASE
)
ASPECTS = ("grammar", "creativity", "consistency", "plot")


def shipped_beginnings() -> list[str]:
    text = resources.files("synthloop.train").joinpath("data", "beginnings.txt").read_text(encoding="utf-8")
    return [line.strip() for line in split_lines(text) if line.strip()]


def perplexity(loaded: LoadedModel, texts: list[str], max_tokens: int = 200_000) -> dict[str, float]:
    """Token-level perplexity over whole stories (each scored in windows of the model's context)."""
    import torch

    from synthloop.train.tokenizer import END_OF_TEXT

    end = loaded.tokenizer.token_to_id(END_OF_TEXT)
    block = loaded.model.config.block_size
    total_loss, total_tokens = 0.0, 0
    with torch.no_grad():
        for encoding in loaded.tokenizer.encode_batch(texts):
            ids = [end, *encoding.ids, end]
            for start in range(0, len(ids) - 1, block):
                window = torch.tensor([ids[start : start + block + 1]], device=loaded.device)
                if window.shape[1] < 2:
                    continue
                logits, _ = loaded.model(window[:, :-1])
                loss = torch.nn.functional.cross_entropy(logits[0].float(), window[0, 1:], reduction="sum")
                total_loss += float(loss)
                total_tokens += window.shape[1] - 1
            if total_tokens >= max_tokens:
                break
    mean = total_loss / max(1, total_tokens)
    return {"perplexity": math.exp(mean), "loss": mean, "tokens": total_tokens}


def per_text_perplexity(loaded: LoadedModel, texts: list[str], batch_size: int = 256) -> list[float]:
    """Perplexity of each text on its own (from <|endoftext|> to <|endoftext|>), batched; a text longer than the
    model's context is scored on its first context-length tokens."""
    import torch

    from synthloop.train.tokenizer import END_OF_TEXT

    end = loaded.tokenizer.token_to_id(END_OF_TEXT)
    block = loaded.model.config.block_size
    rows = [[end, *e.ids, end][: block + 1] for e in loaded.tokenizer.encode_batch(texts)]
    values: list[float] = []
    with torch.no_grad():
        for start in range(0, len(rows), batch_size):
            chunk = rows[start : start + batch_size]
            width = max(len(r) for r in chunk)
            ids = torch.full((len(chunk), width), end, dtype=torch.long)
            targets = torch.full((len(chunk), width - 1), -1, dtype=torch.long)
            for i, row in enumerate(chunk):
                ids[i, : len(row)] = torch.tensor(row)
                targets[i, : len(row) - 1] = torch.tensor(row[1:])
            logits, _ = loaded.model(ids[:, :-1].to(loaded.device))
            losses = torch.nn.functional.cross_entropy(
                logits.float().transpose(1, 2), targets.to(loaded.device), ignore_index=-1, reduction="none"
            )  # (B, T)
            counts = (targets >= 0).sum(dim=1).clamp(min=1).to(loaded.device)
            values.extend(math.exp(float(v)) for v in (losses.sum(dim=1) / counts).tolist())
    return values


def parse_grades(text: str) -> dict[str, float]:
    """Scores out of 10 from a grader's free text, robust to bold, '=', 'out of 10' and stray words."""
    grades: dict[str, float] = {}
    for aspect, value in SCORE.findall(text):
        score = float(value)
        if 0 <= score <= 10 and aspect.lower() not in grades:
            grades[aspect.lower()] = score
    return grades


def grade(backend: Backend, pairs: list[tuple[str, str]]) -> list[dict[str, float]]:
    prompts = [
        Prompt(str(i), [{"role": "user", "content": RUBRIC.format(beginning=b, completion=c)}], i)
        for i, (b, c) in enumerate(pairs)
    ]
    return [parse_grades(completion.text) for completion in backend.generate(prompts)]


def evaluate(
    loaded: LoadedModel,
    text_sets: list[Path],
    beginnings: list[str],
    samples: int = 1,
    max_new_tokens: int = 150,
    grader: Backend | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    results: dict[str, Any] = {"perplexity": {str(p): perplexity(loaded, read_texts(p)) for p in text_sets}}
    completions = []
    for index, beginning in enumerate(beginnings):
        for sample_index in range(samples):
            text = generate(loaded, beginning, max_new_tokens, seed=seed + index * 1000 + sample_index)
            completions.append({"beginning": beginning, "completion": text})
    results["completions"] = completions
    words = [("ball", "run", "happy"), ("tree", "jump", "big"), ("cake", "eat", "sweet"), ("dog", "play", "little")]
    following = []
    for index, (noun, verb, adjective) in enumerate(words):
        prompt = f"Words: {verb}, {noun}, {adjective}\nStory:"  # the TinyStories-Instruct format
        story = generate(loaded, prompt, max_new_tokens, seed=seed + index)
        missing = missing_words(story, {"noun": noun, "verb": verb, "adjective": adjective})
        following.append({"words": [noun, verb, adjective], "missing": missing, "story": story})
    results["constraint_following"] = {
        "all_words_rate": sum(1 for f in following if not f["missing"]) / len(following),
        "samples": following,
    }
    if grader is not None:
        grades = grade(grader, [(c["beginning"], c["completion"]) for c in completions])
        parsed = [g for g in grades if g]
        results["grades"] = {
            "graded": len(parsed),
            "unparsed": len(grades) - len(parsed),
            **{a: sum(g[a] for g in parsed if a in g) / max(1, sum(1 for g in parsed if a in g)) for a in ASPECTS},
        }
    return results
