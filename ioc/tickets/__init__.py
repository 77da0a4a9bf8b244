"""The citizen-report desk (phản ánh hiện trường), one package.

The ticket workflow with its full history (:mod:`.workflow`), the repository (:mod:`.store`), intake
from the spine's feedback events (:mod:`.intake`), privacy (masking, scrubbing, audit:
:mod:`.privacy`), leaders' numbers (:mod:`.stats`), overdue alerts (:mod:`.overdue`), and the triage
logic: categories (:mod:`.categories`), Vietnamese text normalisation (:mod:`.text`), a seeded
labelled corpus (:mod:`.corpus`), the category classifier (:mod:`.classifier`), the working-day
calendar (:mod:`.calendar`), routing to agencies and ward committees (:mod:`.routing`) and
duplicate detection (:mod:`.duplicates`). No web here: the pages live in ``ioc/web``.
"""
