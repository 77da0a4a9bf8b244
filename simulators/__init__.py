"""Simulated Hải Phòng: seeded sensor streams with planted, labelled incidents, replay and publishing."""
