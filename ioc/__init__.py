"""Hải Phòng IOC: shared vocabulary (settings, events, topics, database) and the Dash app."""
