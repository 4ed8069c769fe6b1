"""The grader's machinery: sealing a submission off, running it, and judging it from outside.

``sandbox`` builds one submission's sandbox and starts its kernel there (it runs in a process of its
own, standard library only); ``seal`` chooses and proves the seal on this machine and ends what a
submission leaves behind; ``kernel`` talks to the kernel over ZMQ; ``cells`` runs a notebook's cells
whatever they do; ``wire`` is the plain-data format values cross in; ``agent`` is what the grader
installs in the kernel to describe and call the learner's functions; ``proxy`` gives the checkers a
stand-in for each function that forwards every call to the kernel. :mod:`course_tools.grade` is the
command that puts them together. Nothing here runs a checker inside a submission's process.
"""
