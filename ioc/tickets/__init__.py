"""Citizen-report tickets: the workflow with its full history, the repository, intake from the
spine's feedback events, privacy (masking and audit), leaders' numbers and the CLI."""
