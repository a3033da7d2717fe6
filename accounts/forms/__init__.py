"""Forms of the book: activities (forms/activities.py) and the pipeline (forms/pipeline.py)."""
