"""Deduplication stages: exact (normalised hash), near (MinHash LSH) and semantic (embedding cosine).

Each is a stateful filter: the first record of a cluster is kept and becomes its representative; later members are
dropped with meta["duplicate_of"] (the kept record's id) and meta["cluster"] (the cluster id, which is the kept
record's id). Input order decides which member is kept, so reruns give the same result.
"""
