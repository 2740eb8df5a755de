"""synthloop: a synthetic-data engine for small language models, after the TinyStories recipe.

Data flows one way: recipe -> prompts -> backend -> raw records -> curation -> dataset -> (report | review | train).
"""

__version__ = "0.1.0"
