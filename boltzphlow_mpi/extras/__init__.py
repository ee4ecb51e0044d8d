"""Extras the core never imports: plots (matplotlib) and benchmarks.
"""
