"""The wire contract (PROTOCOL.md) with no I/O: frame schemas, JSON codec, session state."""
