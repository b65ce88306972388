"""Reporting tests."""
