"""Pure business rules of `moncompte`, shared by the CLI and the reference server.

Nothing in this package does I/O, reads the clock or prints: every function takes the
dates and amounts it needs, so both sides give the same answer for the same inputs.
"""
