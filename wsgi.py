"""WSGI entry point for gunicorn: `gunicorn -c gunicorn.conf.py wsgi:app` (README, Production)."""

from supply_app import create_app

app = create_app()
