"""A scripted backend for unit tests, registered through the real plugin path (SYNTHLOOP_PLUGINS=scripted_backend).

It writes a deterministic story from the prompt's seed that uses the words the prompt asks for, so tests can
check ids, texts and counts exactly. Options script failures: `fail_seeds_mod` makes every prompt whose seed is
divisible by it fail (only while the file `fail_while` names exists, when it is set: a server that recovers);
`empty_seeds_mod` answers such prompts with `empty_text` (an empty answer); `skip_words_mod` leaves the required
words out (to exercise retries); `delay_s` sleeps per batch so a test can kill a run mid-way; `log` appends the id
of every prompt it is sent to that file. For judge tests: `replies` maps a text to the answers a prompt containing
it gets, one per time it is asked (the last repeats), and `calls_file` gets one JSON line per generate call.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections import Counter
from pathlib import Path

from pydantic import Field

from synthloop.backends.base import Backend, Completion, Prompt, SamplingOptions
from synthloop.plugins import Register, hookimpl

QUOTED = re.compile(r'"([a-z]+)"')
LISTED = re.compile(r"words: ([a-z]+), ([a-z]+), ([a-z]+)")
NAMES = ["Lily", "Tom", "Mia", "Ben", "Sue", "Max"]
PLACES = ["park", "garden", "house", "forest", "beach", "farm"]


class ScriptedOptions(SamplingOptions):
    delay_s: float = Field(0.0, ge=0)
    fail_seeds_mod: int = Field(0, ge=0)
    skip_words_mod: int = Field(0, ge=0)
    reply: str | None = None  # answer every prompt with this text (e.g. a grader's verdict)
    replies: dict[str, list[str]] = Field(default_factory=dict)  # text in the prompt -> its 1st, 2nd, ... answer
    calls_file: str | None = None  # append {"prompts": n} per generate call (counts calls across processes)
    fail_while: str | None = None
    empty_seeds_mod: int = Field(0, ge=0)
    empty_text: str = ""
    log: str | None = None


def words_in(prompt: Prompt) -> list[str]:
    text = prompt.messages[-1]["content"]
    listed = LISTED.search(text)
    return list(listed.groups()) if listed else QUOTED.findall(text)[:3]


def story(seed: int, words: list[str]) -> str:
    rng = random.Random(seed)
    name, place = rng.choice(NAMES), rng.choice(PLACES)
    uses = " and ".join(words) if words else "nothing"
    return (
        f"Once upon a time, {name} went to the {place}. {name} saw many things there and smiled at the sky.\n\n"
        f"{name} liked the words {uses} very much. {name} played with a friend all day long in the sun.\n\n"
        f"At the end of the day, {name} went home happy and ate a warm dinner with mom and dad. Story {seed}."
    )


class ScriptedBackend(Backend[ScriptedOptions]):
    name = "scripted"

    def __init__(self, options: ScriptedOptions) -> None:
        super().__init__(options)
        self.asked: Counter[str] = Counter()  # replies key -> times asked

    @property
    def model_name(self) -> str:
        return "scripted-1"

    def generate(self, prompts: list[Prompt]) -> list[Completion]:
        opts = self.options
        if opts.delay_s:
            time.sleep(opts.delay_s)
        if opts.calls_file:
            with open(opts.calls_file, "a", encoding="utf-8") as handle:
                handle.write(json.dumps({"prompts": len(prompts)}) + "\n")
        out = []
        if opts.log:
            with open(opts.log, "a", encoding="utf-8") as handle:
                handle.write("".join(f"{prompt.id}\n" for prompt in prompts))
        failing = opts.fail_seeds_mod and (opts.fail_while is None or Path(opts.fail_while).exists())
        for prompt in prompts:
            scripted = self.scripted_reply(prompt)
            if scripted is not None:
                out.append(Completion(scripted, "stop", 50, len(scripted.split()), 0.01, self.model_name))
                continue
            if opts.empty_seeds_mod and prompt.seed % opts.empty_seeds_mod == 0:
                out.append(Completion(opts.empty_text, "stop", 10, 0, 0.01, self.model_name))
                continue
            if failing and prompt.seed % opts.fail_seeds_mod == 0:
                out.append(Completion.failed("scripted failure", self.model_name, 0.01))
                continue
            if opts.reply is not None:
                out.append(Completion(opts.reply, "stop", 50, len(opts.reply.split()), 0.01, self.model_name))
                continue
            words = [] if opts.skip_words_mod and prompt.seed % opts.skip_words_mod == 0 else words_in(prompt)
            text = story(prompt.seed, words)
            out.append(Completion(text, "stop", 50, len(text.split()), 0.01, self.model_name))
        return out

    def scripted_reply(self, prompt: Prompt) -> str | None:
        opts = self.options
        text = prompt.messages[-1]["content"]
        for key, answers in opts.replies.items():
            if key in text:
                self.asked[key] += 1
                return answers[min(self.asked[key], len(answers)) - 1]
        return None


@hookimpl
def register_backends(register: Register) -> None:
    register(ScriptedBackend)
