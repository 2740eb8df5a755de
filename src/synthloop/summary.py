"""Short human summaries printed at the end of a command."""

from __future__ import annotations

from synthloop.generate.runner import GenerateResult


def print_generate_summary(result: GenerateResult) -> None:
    print(f"dataset: {result.out}/data  ({result.stories} stories, {result.failed} failed)")
    if result.resumed:
        print(f"resumed: {result.resumed} records were already done")
    print(
        f"tokens:  {result.tokens_out} in kept stories; {result.tokens_generated} generated now "
        f"in {result.seconds:.1f} s ({result.tokens_per_s:.1f} tok/s)"
    )
    print(f"all three words used: {result.all_words_used}/{result.stories} ({result.all_words_rate:.0%})")
