"""The HTML report (self-contained, plots embedded as PNG) and the Hugging Face dataset card."""
