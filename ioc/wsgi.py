"""WSGI entry for gunicorn: ``gunicorn ioc.wsgi:server`` (settings from ``IOC_*`` variables).

Each gunicorn worker process gets its own app and its own single snapshot refresher.
"""

from ioc.app import create_app
from ioc.settings import Settings

app = create_app(Settings())
server = app.server
