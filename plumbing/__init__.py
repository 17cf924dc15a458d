"""Plumbing shared by the reference MIC, the mock IdPs and the harness.

The three know each other only through the wire; what they share is here: the clock
every expiry reads, the control surface every server exposes in test mode, the fleet
that runs them side by side, and the YAML loading that gives errors a file and line.
"""
