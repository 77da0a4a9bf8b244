"""Embedded services for the default single-machine setup: a real PostgreSQL and a real Kafka-protocol broker."""

from ioc.services.broker import TansuBroker
from ioc.services.postgres import EmbeddedPostgres

__all__ = ["EmbeddedPostgres", "TansuBroker"]
