"""Seeded defects: realistic bugs patched one at a time into a scratch copy of the project,
each to be caught by the conformance suite (``python -m bench.defects [ids]``).

A suite is worth the bugs it catches: every defect names the requirement it breaks and
the scenario files most likely to catch it, which run first.
"""
