"""What the review commands accept, in a module without heavy imports so the command-line parser can offer the same
choices the library checks: export formats and the rules for reviewers who disagree."""

FORMATS = ("jsonl", "argilla")  # review export --format
CONFLICT_RULES = ("reject", "accept", "latest")  # review apply --on-conflict
