"""Kafka clients configured once: producers, topic creation, consumer settings that suit the broker."""

from __future__ import annotations

import logging
import uuid
from functools import cache

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from ioc.settings import Settings
from ioc.topics import ALL_TOPICS

log = logging.getLogger(__name__)

# kafka-python's first group join waits for the rebalance timeout, which follows max.poll.interval.ms:
# ~3 s at <= 5000 ms instead of ~23 s at the default. The consumers poll far more often than that.
# Topics are created by the launcher (or `ioc init`) with their configured partitions, never by a
# client's first touch: auto-created topics get the broker's default partition count.
CONSUMER_TUNING: dict[str, object] = {
    "max_poll_interval_ms": 5000,
    "session_timeout_ms": 10000,
    "heartbeat_interval_ms": 1000,
    "allow_auto_create_topics": False,
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
    """A producer that waits for the broker's acknowledgement of every record (acks=all).

    It reconnects by itself when the broker comes back. Idempotence is off: the idempotent
    producer's id dies with a restarted broker (UnknownProducerIdError on every send after it),
    and duplicates are harmless downstream, where event_id is the idempotency key.
    """
    config: dict[str, object] = {
        **client_security(),
        "bootstrap_servers": bootstrap,
        "acks": "all",
        "linger_ms": 5,
        "batch_size": 256 * 1024,
        "retries": 2_147_483_647,  # until delivery_timeout_ms: a broker restart is waited out
        "delivery_timeout_ms": 120_000,
        "max_in_flight_requests_per_connection": 1,  # keeps per-key order across retries
        "enable_idempotence": False,
        "allow_auto_create_topics": False,
    }
    config.update(overrides)
    return KafkaProducer(**config)


def topic_id(consumer: KafkaConsumer, topic: str) -> uuid.UUID | None:
    """The topic's id (KIP-516 UUID) from the client's metadata, or None when the broker sends none.

    A topic deleted and created again, or a memory-only broker restarted, has a new id: the
    consumers compare it with the id stored beside their offsets.
    """
    try:
        tid = consumer._client.cluster.topic_id(topic)  # noqa: SLF001 - kafka-python exposes it only here
    except AttributeError:  # an older kafka-python
        return None
    if tid is None or tid.int == 0:
        return None
    return tid if isinstance(tid, uuid.UUID) else uuid.UUID(str(tid))


def ensure_topics(bootstrap: str, partitions: int, prefix: str = "", topics: tuple[str, ...] = ALL_TOPICS,
                  replication: int = 1) -> list[str]:
    """Create the IOC topics (with ``prefix``) that do not exist yet; return the names created."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="ioc-admin", request_timeout_ms=10_000,
                             **client_security())
    try:
        existing = set(admin.list_topics())
        wanted = [prefix + t for t in topics if prefix + t not in existing]
        created = []
        for name in wanted:
            try:
                admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=replication)])
                created.append(name)
            except TopicAlreadyExistsError:
                pass
        return created
    finally:
        admin.close()
