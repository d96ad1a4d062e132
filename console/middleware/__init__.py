"""HTTP plumbing every front door shares: upload limits and text checks before a view runs."""
