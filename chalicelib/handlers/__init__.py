"""Use cases: each takes a normalized event, applies policy and commits one transaction."""
