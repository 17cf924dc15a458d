"""The conformance harness: scenario files, their runner and drivers, the pytest plugin and the CLI.

It is the only package that brings the reference MIC and the mock IdPs together.
"""
