"""A byte-level BPE tokenizer (Hugging Face `tokenizers`) trained on the dataset's own text, as TinyStories did:
a small vocabulary (4,096 by default) fits a small model, and byte level means no story is ever out of vocabulary."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from synthloop.errors import UserError
from synthloop.store.atomic import atomic_write_text

END_OF_TEXT = "<|endoftext|>"


def train_tokenizer(texts: Iterable[str], vocab_size: int = 4096) -> Any:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[END_OF_TEXT],
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return tokenizer


def save_tokenizer(tokenizer: Any, path: Path) -> None:
    atomic_write_text(path, tokenizer.to_str())


def load_tokenizer(path: Path) -> Any:
    from tokenizers import Tokenizer

    try:
        return Tokenizer.from_file(str(path))
    except Exception as error:  # tokenizers raises its own Exception subclass for any unreadable file
        message = str(error).split("\n")[0][:200]
        raise UserError(f"{path}: not a tokenizer.json ({message})") from error
