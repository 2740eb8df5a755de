"""How steps run: local processes (default) and, optionally, Ray Data. Steps never know which."""
