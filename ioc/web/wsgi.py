"""WSGI entry for gunicorn: ``gunicorn ioc.web.wsgi:server`` (settings from ``IOC_*`` variables).

Each gunicorn worker process gets its own app and its own single snapshot refresher.
"""

from ioc.settings import Settings
from ioc.web.app import create_app

app = create_app(Settings())
server = app.server
