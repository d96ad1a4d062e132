"""Loopdeck's media pipeline: models, jobs, callbacks, and the encode core (media_jobs.encode)."""
