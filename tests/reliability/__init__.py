"""Reliability and security tests (issue 9): storms, concurrency, faults, fuzzing, auth."""
