"""Where records live on disk: Parquet shards written atomically, a manifest, journals for resume."""
