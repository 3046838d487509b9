"""Servers the throttle tests and benchmarks share: a strict rate-limited server, a throwaway Redis."""
