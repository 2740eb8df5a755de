"""Decontamination: drop stories that overlap an evaluation set, as Cosmopedia did with 10-grams.

For each eval item, the share of its word 10-grams (normalised text) that also occur in a story; a story whose
share for any item reaches `max_overlap` (default 0.5) is dropped with the item's id recorded. The eval set is a
JSON-lines file (field `text`, `prompt` or `story`) or a plain text file with one item per line.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from pydantic import Field

from synthloop.curate.base import Filter, FilterContext, FilterOptions, Verdict
from synthloop.curate.text import TextView, ngrams, normalize
from synthloop.errors import UserError
from synthloop.records import Record
from synthloop.store.jsonl import read_jsonl, split_lines

TEXT_FIELDS = ("text", "prompt", "story")


class DecontaminationOptions(FilterOptions):
    eval_set: Path | None = Field(
        None, description="evaluation items (JSONL) stories must not overlap; None: the stage is off"
    )
    ngram: int = Field(10, ge=3, le=50, description="words per n-gram compared with the evaluation set")
    max_overlap: float = Field(0.5, gt=0, le=1, description="share of an item's n-grams found in a story that drops it")


def read_eval_set(path: Path) -> list[tuple[str, str]]:
    """(id, text) pairs; a one-line UserError for a missing or malformed file."""
    if not path.is_file():
        raise UserError(f"{path}: eval set not found")
    items = []
    if path.suffix == ".jsonl":
        for number, row in read_jsonl(path):
            text = next((row[f] for f in TEXT_FIELDS if isinstance(row, dict) and isinstance(row.get(f), str)), None)
            if text is None:
                raise UserError(f"{path}: line {number}: expected an object with a text, prompt or story field")
            items.append((str(row.get("id", number)), text))
    else:
        try:
            text = path.read_text(encoding="utf-8", errors="strict")
        except UnicodeDecodeError as error:
            raise UserError(f"{path}: not UTF-8 text (byte {error.start})") from error
        items = [(str(number), line) for number, line in enumerate(split_lines(text), start=1) if line.strip()]
    if not items:
        raise UserError(f"{path}: eval set is empty")
    return items


class DecontaminationFilter(Filter[DecontaminationOptions]):
    name = "decontam"

    def __init__(self, options: DecontaminationOptions, context: FilterContext) -> None:
        super().__init__(options, context)
        self.index: dict[tuple[str, ...], list[int]] = defaultdict(list)
        self.items: list[tuple[str, int]] = []  # (id, number of distinct n-grams)
        if options.eval_set is not None:
            for item_id, text in read_eval_set(Path(options.eval_set)):
                grams = set(ngrams(normalize(text).split(), options.ngram))
                for gram in grams:
                    self.index[gram].append(len(self.items))
                self.items.append((item_id, len(grams)))

    def filter(self, record: Record, view: TextView) -> Verdict:
        options = self.options
        if not self.items:
            return True
        hits: dict[int, int] = defaultdict(int)
        for gram in set(ngrams(view.plain_words, options.ngram)):
            for item in self.index.get(gram, ()):
                hits[item] += 1
        best_item, best = max(
            ((i, n / max(1, self.items[i][1])) for i, n in hits.items()), key=lambda x: x[1], default=(-1, 0.0)
        )
        self.score(record, "overlap", best)
        if best >= options.max_overlap:
            record.meta["contaminated_by"] = self.items[best_item][0]
            return False, "ngram_overlap"
        return True
