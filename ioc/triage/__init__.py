"""Triage desk domain logic for citizen reports (phản ánh hiện trường).

Categories as configuration (:mod:`.categories`), Vietnamese text normalisation (:mod:`.text`),
a seeded labelled corpus (:mod:`.corpus`), the category classifier (:mod:`.classifier`), the
working-day calendar for deadlines (:mod:`.calendar`), routing to agencies and ward committees
(:mod:`.routing`) and duplicate detection (:mod:`.duplicates`). No web page and no database here:
the ticket workflow and the triage page build on these functions.
"""
