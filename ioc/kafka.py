"""Kafka clients configured once: producers, topic creation, consumer settings that suit the broker."""

from __future__ import annotations

import logging
from functools import cache

from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from ioc.settings import Settings
from ioc.topics import ALL_TOPICS

log = logging.getLogger(__name__)

# kafka-python's first group join waits for the rebalance timeout, which follows max.poll.interval.ms:
# ~3 s at <= 5000 ms instead of ~23 s at the default. The consumers poll far more often than that.
CONSUMER_TUNING: dict[str, int] = {
    "max_poll_interval_ms": 5000,
    "session_timeout_ms": 10000,
    "heartbeat_interval_ms": 1000,
}


def security_options(settings: Settings) -> dict[str, object]:
    """kafka-python options for SASL/SCRAM and TLS (issue 11); empty for the embedded PLAINTEXT broker."""
    out: dict[str, object] = {"security_protocol": settings.kafka_security_protocol}
    if settings.kafka_security_protocol.startswith("SASL"):
        if not settings.kafka_username or settings.kafka_password is None:
            raise ValueError("IOC_KAFKA_SECURITY_PROTOCOL=SASL_* needs IOC_KAFKA_USERNAME and IOC_KAFKA_PASSWORD")
        out.update(sasl_mechanism=settings.kafka_sasl_mechanism, sasl_plain_username=settings.kafka_username,
                   sasl_plain_password=settings.kafka_password.get_secret_value())  # fmt: skip
    if settings.kafka_security_protocol.endswith("SSL") and settings.kafka_ssl_cafile is not None:
        out["ssl_cafile"] = str(settings.kafka_ssl_cafile)
    return out if settings.kafka_security_protocol != "PLAINTEXT" else {}


@cache
def client_security() -> dict[str, object]:
    """:func:`security_options` of this process's environment (every Kafka client passes them)."""
    return security_options(Settings())


def make_producer(bootstrap: str, **overrides: object) -> KafkaProducer:
    """A producer that waits for the broker's acknowledgement of every record (acks=all)."""
    config: dict[str, object] = {
        **client_security(),
        "bootstrap_servers": bootstrap,
        "acks": "all",
        "linger_ms": 5,
        "batch_size": 256 * 1024,
        "retries": 5,
        "max_in_flight_requests_per_connection": 1,  # keeps per-key order across retries
    }
    config.update(overrides)
    return KafkaProducer(**config)


def ensure_topics(bootstrap: str, partitions: int, prefix: str = "", topics: tuple[str, ...] = ALL_TOPICS) -> list[str]:
    """Create the IOC topics (with ``prefix``) that do not exist yet; return the names created."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="ioc-admin", **client_security())
    try:
        existing = set(admin.list_topics())
        wanted = [prefix + t for t in topics if prefix + t not in existing]
        created = []
        for name in wanted:
            try:
                admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])
                created.append(name)
            except TopicAlreadyExistsError:
                pass
        return created
    finally:
        admin.close()
