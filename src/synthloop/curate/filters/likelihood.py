"""The `likelihood` filter: each story's mean token log-probability under a language model, a sense signal.

By default the model is the main config's own generator (the embedded SmolLM2-135M with the shipped `tinystories`
adapter, int8 in CTranslate2), reading the story as its answer to a fixed request for a short children's story, so
the score does not depend on the story's own prompt and works on any file of stories. A story in which events do not
follow from each other has surprising tokens where the model expected the story to go on: on the project's labelled
generated stories, the score alone ranks keep-worthy above the rest far better than the text-feature quality model
(benchmarks/likelihood_auc.py measures it; docs/experiments/likelihood-score.md has the figures). That is a
ranking, far from a judge: use it to order and thin out, and read what it keeps.

Every story it sees gets `likelihood.mean`; with `min_mean_logprob` set, a story below it is dropped as
`likelihood.low`. Scoring runs on the CTranslate2 decoders in batches (its speed: the same page).
"""

from __future__ import annotations

from pydantic import Field

from synthloop.backends.ctranslate2 import CTranslate2Backend, CTranslate2Options
from synthloop.backends.models import DEFAULT_MODEL, ModelName
from synthloop.curate.base import Filter, FilterContext, FilterOptions, Verdict
from synthloop.curate.text import TextView
from synthloop.plugins import Requirement
from synthloop.records import Record
from synthloop.tune.adapters import resolve

# The request the story is read as an answer to: the main job's system prompt and the gist of its prompt.
REQUEST = [
    {"role": "system", "content": "You write short, simple stories for small children."},
    {"role": "user", "content": "Write a short, simple story for young children."},
]


class LikelihoodOptions(FilterOptions):
    model: ModelName = Field(DEFAULT_MODEL, description="the embedded model that reads the stories")
    adapter: str | None = Field(
        "tinystories", description="a LoRA adapter merged into it (a shipped one by name, or a file); null: none"
    )
    min_mean_logprob: float | None = Field(
        None, ge=-20, le=0, description="drop stories whose mean token log-probability is below this; None: score only"
    )
    batch_size: int = Field(32, ge=1, le=4096, description="stories per scoring call")
    threads: int = Field(0, ge=0, description="CPU threads in all; 0: one per CPU core")


class LikelihoodFilter(Filter[LikelihoodOptions]):
    name = "likelihood"
    requires = (Requirement("ctranslate2", "ct2"), Requirement("transformers", "ct2"))
    non_content = frozenset({"batch_size", "threads"})

    def __init__(self, options: LikelihoodOptions, context: FilterContext) -> None:
        super().__init__(options, context)
        self.require()
        self.backend = CTranslate2Backend(
            CTranslate2Options(
                model=options.model, adapter=options.adapter, threads=options.threads, max_batch_size=options.batch_size
            )
        )
        self.backend.check()  # a missing model or a bad adapter fails here, before any work

    def content_digest(self) -> str | None:
        if self.options.adapter is None:
            return None
        from synthloop.backends.models import model_file

        return resolve(self.options.adapter, model_file(self.options.model).name)[1]

    def filter(self, record: Record, view: TextView) -> Verdict:
        return self.filter_batch([record], [view])[0]

    def filter_batch(self, records: list[Record], views: list[TextView]) -> list[Verdict]:
        scoreable = [i for i, r in enumerate(records) if isinstance(r.text, str) and r.text.strip()]
        verdicts: list[Verdict] = [(False, "no_text")] * len(records)
        size = self.options.batch_size
        for start in range(0, len(scoreable), size):
            part = scoreable[start : start + size]
            means = self.backend.mean_log_probs([str(records[i].text) for i in part], REQUEST)
            for i, mean in zip(part, means, strict=True):
                self.score(records[i], "mean", mean)
                low = self.options.min_mean_logprob is not None and mean < self.options.min_mean_logprob
                verdicts[i] = (False, "low") if low else True
        return verdicts

    def close(self) -> None:
        self.backend.close()
