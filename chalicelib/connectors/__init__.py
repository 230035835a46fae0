"""Inbound and outbound partner connectors: one module per partner, nothing partner-shaped leaks out."""
