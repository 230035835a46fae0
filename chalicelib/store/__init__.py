"""DynamoDB storage: PynamoDB models, key formats and the transactions handlers commit."""
