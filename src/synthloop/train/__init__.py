"""Train and evaluate the tiny language model the data is for: tokenizer, GPT presets, training loop, sampling."""
