"""The judge's rubric and the prompt built from it.

The rubric is a Markdown text for the judging model: the shipped one (curate/data/RUBRIC.md, the rubric the
project's labelled stories were judged by) or a user's file. It must say when to keep a story (the word "keep");
its drop reasons are the backticked codes after the word "reason" (`incoherent`, `meta-talk`, ...), so a judge's
free-text reason can be mapped onto them. The rubric's digest covers the whole prompt, so changing either the
rubric or the instructions around it invalidates cached judgements.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from synthloop.backends.base import Prompt
from synthloop.errors import UserError

SCORES = ("grammar", "consistency", "plot", "simplicity")  # 1-10 each, as the TinyStories paper's GPT-4 grader
KEEP_WORD = re.compile(r"\bkeep\b", re.IGNORECASE)
REASON_WORD = re.compile(r"\breasons?\b", re.IGNORECASE)
CODE = re.compile(r"`([a-z][a-z0-9_-]*)`")
SYSTEM = (
    "You are a careful children's book editor. You judge candidate training stories for a tiny language model "
    "against this rubric:\n\n{rubric}"
)
USER = (
    'Judge the story between the lines of three quotes by the rubric.\n\n"""\n{story}\n"""\n\n'
    "Answer with one JSON object and nothing else, of this form:\n{form}"
)


@dataclass(frozen=True, slots=True)
class Rubric:
    text: str
    source: str  # the file it came from, for messages
    reasons: tuple[str, ...]  # the drop reasons it names, in its order

    @property
    def answer_form(self) -> str:
        reasons = " | ".join(self.reasons) if self.reasons else "a short reason"
        scores = ", ".join(f'"{name}": 1-10' for name in SCORES)
        return f'{{"keep": true or false, {scores}, "reason": "{reasons} (empty when keep is true)"}}'

    @property
    def digest(self) -> str:
        instructions = json.dumps([SYSTEM.format(rubric=self.text), USER, self.answer_form])
        return hashlib.sha256(instructions.encode("utf-8")).hexdigest()[:16]

    def prompt(self, story: str, prompt_id: str, seed: int) -> Prompt:
        messages = [
            {"role": "system", "content": SYSTEM.format(rubric=self.text)},
            {"role": "user", "content": USER.format(story=story, form=self.answer_form)},
        ]
        return Prompt(prompt_id, messages, seed)


def reasons_in(text: str) -> tuple[str, ...]:
    """The backticked codes after the first mention of "reason" (the shipped rubric lists them there)."""
    mention = REASON_WORD.search(text)
    if mention is None:
        return ()
    found: list[str] = []
    for code in CODE.findall(text[mention.end() :]):
        if code not in found:
            found.append(code)
    return tuple(found)


def load_rubric(path: Path | None) -> Rubric:
    """The shipped rubric (None) or the user's file; a rubric that never says when to keep a story is refused."""
    if path is None:
        source = "curate/data/RUBRIC.md"
        text = resources.files("synthloop.curate").joinpath("data", "RUBRIC.md").read_text(encoding="utf-8")
    else:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise UserError(f"{path}: cannot read the judge rubric ({error})") from error
    if not KEEP_WORD.search(text):
        raise UserError(f"{source}: the judge rubric has no keep decision (it must say when to 'keep' a story)")
    return Rubric(text.strip(), source, reasons_in(text))
