"""Human review: a web app over a dataset whose accept/reject/edit decisions flow back into the data."""
