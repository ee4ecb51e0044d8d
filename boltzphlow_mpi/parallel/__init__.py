"""Parallel plumbing: the communicator wrapper, transposes and log stages (``comm``), the
DMDA domain (``domain``) and the radial transport on it (``radial``).
"""
