"""The WebSocket edge: connections, the per-node hub, fan-out, backpressure, close codes."""
