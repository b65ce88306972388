"""Notifications: the daily digest and recall notices, by email over SMTP."""
