"""Dash pages: one module per page with ``layout()`` and its own callbacks."""
