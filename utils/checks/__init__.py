"""Checkers for the exercises, one module per chapter (``utils.checks.ch01`` ...)."""
