"""Fine-tuning the embedded generator on anchored data: prompt -> story pairs from a human pool, a LoRA adapter."""
