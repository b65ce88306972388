"""WSGI entry point for gunicorn: `gunicorn wsgi:app`."""

from supply_app import create_app

app = create_app()
