"""Local development and test tooling: the embedded stack (DynamoDB Local + moto), seeding, runner.

Not deployed: `chalice package` ships only `app.py` and `chalicelib/`.
"""
