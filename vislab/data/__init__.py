"""The shared data layer: the tensor cache, the dataset registry, seeded DataLoaders, the choice of
dataset, and readers of real datasets in their own formats (CIFAR-10, PASCAL VOC, Planet, MNIST
idx, INF265). Each assignment's own datasets live in its subpackage (``vislab.a3_cifar.data``...).

A module that provides a dataset lists it in a module-level ``DATASETS`` list of
:class:`vislab.data.registry.DatasetSpec`; ``datasets.py`` finds them there.
"""
