"""Aftercare's core: connectors, events, policy, handlers, store and notifications."""
