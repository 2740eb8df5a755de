"""The quality classifier: a fast CPU judge of whether a story is worth keeping as training data."""
