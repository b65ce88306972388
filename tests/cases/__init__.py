"""Cases tests."""
