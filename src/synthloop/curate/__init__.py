"""Curation: verify, filter, deduplicate and decontaminate stories, keeping every reject with its reasons."""
