"""Inventory domain."""
