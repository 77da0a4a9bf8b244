"""Stream consumers: decode and validate events from Kafka and store each accepted one exactly once."""
