"""Ordering domain."""
