"""Helpers shared by the tests and the benchmarks: databases, data builders, live servers."""
