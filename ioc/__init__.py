"""Hải Phòng IOC, in three floors (the arrows are checked by ``tests/test_import_contracts.py``).

- Vocabulary, imported by everything and importing nothing above it: ``events`` (the event base),
  ``sources`` (one declaration per live source), ``settings``, ``topics``, ``db`` and ``schema``,
  ``kafka``, ``i18n``, ``state`` (the live city state the layers draw), ``audit`` and ``crypto``
  (personal data encrypted at rest and on the feedback topic).
- Desks, the domain: ``access`` (roles, scopes and the one policy function), ``accounts`` (users,
  sessions, API keys), ``db_roles`` (least-privilege database roles) and ``tickets`` (the
  citizen-report desk).
- The web app (``web/``: Dash pages, login, the live snapshot, Open311) and the composition root
  (``cli``, ``cli_users``, ``launcher``, ``services/``), which nothing else imports.
"""
