"""The commands of `synthloop` (synthloop/cli.py builds the parser from them), one module per group: the data
pipeline (data.py), the tiny model (model.py) and the review app (review.py); common.py holds the options several
of them share."""
