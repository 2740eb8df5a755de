"""Built-in curation filters, one per file."""
