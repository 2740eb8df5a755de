"""The generation runner: prompt shards -> backend -> finished Records, resumable."""
