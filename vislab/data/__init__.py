"""Datasets: embedded defaults built from installed packages, real loaders, DataLoader helpers.

Every dataset module in this package lists what it provides in a module-level ``DATASETS``
list of :class:`vislab.data.registry.DatasetSpec`; ``datasets.py`` finds them there.
"""
