"""Facilities domain."""
