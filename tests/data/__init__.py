"""Seeded generators of realistic test data (no I/O, reproducible from a seed)."""
