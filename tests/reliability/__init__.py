"""Reliability tests: faults, a server killed mid-bulk, fuzzing, secrets, load (README.md)."""
