"""Pure policy: decisions with no I/O (eligibility, state machines, SLA, tiers, status mapping)."""
