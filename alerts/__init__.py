"""Early warnings: official indices, rules and anomaly models over the city streams."""
