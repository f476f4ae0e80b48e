"""Pure values and decisions: mentions and threads, the routing rules, bursts, durations,
language and where a text may be cut. No I/O."""
