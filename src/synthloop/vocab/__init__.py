"""Vocabulary: the shipped child word list with parts of speech, user lists, inflection matching, sampling."""

from synthloop.vocab.vocabulary import POS_TAGS, Entry, Vocabulary, load_vocabulary

__all__ = ["POS_TAGS", "Entry", "Vocabulary", "load_vocabulary"]
