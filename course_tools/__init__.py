"""The tools that build, publish and grade the course; no notebook imports them.

``exercises`` generates ``chapters/`` from ``solutions/``; ``execution`` runs executed copies of the
solutions, shared by ``book`` (the HTML book), ``slides`` (reveal.js decks) and ``guide`` (the
instructor's guide); ``grade`` grades submitted notebooks with the course's checkers; ``readme``
renders the README's tables from the results files; ``gpu`` refuses to start ``make test-gpu`` where
the backend would compute on the CPU. Each is a command: ``python -m course_tools.NAME``.
These may import :mod:`utils`; nothing in :mod:`utils` imports them.
"""
