"""Partner connectors: one module per partner; nothing partner-shaped leaks out."""
