"""The LLM judge's parts: the rubric and its prompt, the parsing of answers, and the judgement cache."""
