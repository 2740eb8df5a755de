"""store.Manifest: a derived dataset's lineage read the same way everywhere (generation settings, vocabulary, cost)."""

from __future__ import annotations

from synthloop.store.manifest import Manifest

GENERATED = {
    "kind": "generate",
    "settings": {"recipe": "simplestories", "recipe_options": {"k": 1}, "backend": "ctranslate2", "model": "m"},
    "config": {"vocab": {"path": "words.tsv"}},
    "cost": {"usd": 1.5},
    "counts": {"stories": 4, "failed": 1},
}
CURATED = {
    "kind": "curate",
    "settings": {"input": "/data/gen"},
    "config": {"vocab": {"path": None}},
    "source_manifest": GENERATED,
    "fingerprint": "abc",
}
REVIEWED = {"kind": "review", "source": "/data/cur", "source_manifest": CURATED, "review": {"applied": 3}}


def test_a_reviewed_dataset_walks_back_to_the_run_that_generated_it():
    manifest = Manifest(REVIEWED)
    assert [m.kind for m in manifest.lineage()] == ["review", "curate", "generate"]
    assert [str(m.source) for m in manifest.lineage() if m.source] == ["/data/cur", "/data/gen"]
    assert manifest.generation.raw is GENERATED
    assert manifest.recipe == ("simplestories", {"k": 1}) and manifest.backend == ("ctranslate2", "m")
    assert manifest.vocab_path == "words.tsv"  # the curated run named none: the generation's
    assert manifest.cost == {"usd": 1.5} and manifest.review == {"applied": 3}
    assert Manifest(CURATED).fingerprint == "abc" and Manifest(CURATED).review is None
    assert Manifest(GENERATED).counts == {"stories": 4, "failed": 1} and Manifest(GENERATED).source is None


def test_a_foreign_or_damaged_manifest_reads_as_empty_fields_not_errors():
    manifest = Manifest({"kind": 3, "settings": [1], "source_manifest": "x", "counts": {"a": "b"}})
    assert manifest.kind is None and manifest.settings == {} and manifest.parent is None and manifest.counts == {}
    assert manifest.generation is manifest or manifest.generation.raw is manifest.raw
    assert manifest.vocab_path is None and manifest.recipe == (None, {}) and manifest.cost is None
