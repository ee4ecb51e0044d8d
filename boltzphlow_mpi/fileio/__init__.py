"""Files: the HDF5 output, checkpoints and mesh files.
"""
