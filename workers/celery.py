"""The worker's entry point, the one place that builds the Flask app for Celery."""

from app import create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]
