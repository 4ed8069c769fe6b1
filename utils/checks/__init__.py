"""What checks the learner and the course.

``framework`` (the checker machinery: verdicts, named mistakes, "not attempted yet"), one module of
checkers per chapter (``ch01`` ...), ``parity`` (the largest difference between an implementation
and its reference, bounded) and ``targets`` (each chapter's quality targets). Checkers may import
any lesson code to compute the right answer; no lesson code imports a checker.
"""
