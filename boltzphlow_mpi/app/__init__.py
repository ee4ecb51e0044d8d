"""Application: the validated config, the simulation (builder and run) and sweeps.
"""
