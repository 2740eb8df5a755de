"""Metrics on a set of stories: diversity, vocabulary coverage, bias, and comparison with a reference corpus."""
