"""Challenges: authoring, co-funding, phases and criteria, publication, clarifications, amendments."""
