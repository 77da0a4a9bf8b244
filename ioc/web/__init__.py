"""The web app and its HTTP surface: Dash pages, components, ids, assets, logins and sessions, the live
snapshot and its queries, the layer blobs, the web server, WSGI and Open311.

Only the composition root imports this package; the layers draw from ``ioc.state``.
"""
