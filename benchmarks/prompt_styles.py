"""Which prompt makes SmolLM2-135M write usable stories? Compares templates and temperatures on the same words.

For each variant, the same N prompts (same words and features, same seeds) are generated with the embedded backend,
one attempt each, and scored: all three required words used (any inflection), at least 50 words, and both.
The baseline is the TinyStories paper's template at temperature 0.7.

    .venv/bin/python benchmarks/prompt_styles.py [-n 16]
"""

from __future__ import annotations

import argparse
import time

from synthloop.backends.base import Prompt
from synthloop.backends.embedded import EmbeddedBackend, EmbeddedOptions
from synthloop.recipes.tinystories import TEMPLATE, TinyStories, TinyStoriesOptions
from synthloop.vocab import load_vocabulary
from synthloop.vocab.inflection import missing_words

VARIANTS = [
    ("baseline: TinyStories template, T=0.7", TEMPLATE, 0.7),
    ("TinyStories template, T=0.3", TEMPLATE, 0.3),
    ("small-model template, T=0.7", "small-model", 0.7),
    ("small-model template, T=0.3", "small-model", 0.3),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=16)
    args = parser.parse_args()
    vocabulary = load_vocabulary()
    print(f"{'variant':<40} {'3 words':>8} {'>=50 words':>10} {'both':>6} {'tokens':>7} {'tok/s':>6}")
    for name, template, temperature in VARIANTS:
        recipe = TinyStories(TinyStoriesOptions(template=template, max_features=1), vocabulary, 0)
        backend = EmbeddedBackend(EmbeddedOptions(temperature=temperature, repeat_penalty=1.1, max_tokens=300))
        used = long = both = tokens = 0
        started = time.perf_counter()
        for index in range(args.n):
            record = recipe.render(index)
            [completion] = backend.generate([Prompt(record.id, recipe.messages(record), record.seed)])
            story = recipe.parse(record, completion.text, completion.finish_reason)
            all_words, enough = not missing_words(story.text, story.words), len(story.text.split()) >= 50
            used, long, both = used + all_words, long + enough, both + (all_words and enough)
            tokens += completion.tokens_out
        seconds = time.perf_counter() - started
        backend.close()
        n = args.n
        print(
            f"{name:<40} {used:>4}/{n:<3} {long:>6}/{n:<3} {both:>2}/{n:<3} {tokens / n:>7.0f} {tokens / seconds:>6.1f}"
        )


if __name__ == "__main__":
    main()
