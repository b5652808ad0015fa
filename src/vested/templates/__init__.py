"""Templates for ``vested init``: a folder to start from, in four domains (help desk, third-party
logistics, facilities management, equipment maintenance).

Each template is a task-based agreement (the contract as bought today, which draws the Activity
Trap warning), a Vested agreement (checks clean), a scenario with levers (one that the task-based
contract leaves unpulled and the Vested one makes the supplier pull) and a seeded generator for the
agreements' datasets. The files are shipped in ``vested/examples`` (:mod:`~vested.templates.catalog`
says where); the generators are in :mod:`~vested.templates.generate`; ``vested.services.init`` writes
a template into a folder.
"""
