"""vislab: the helper package that the course notebooks import.

Submodules, each with one job:

- ``vislab.paths``     where cached datasets, checkpoints and run artefacts live
- ``vislab.grading``   whether a notebook runs under nbgrader (skip or shorten training)
- ``vislab.data``      embedded default datasets, real loaders, seeded DataLoaders
- ``vislab.training``  ``train_one_epoch``, ``evaluate``, ``fit`` with a history
- ``vislab.metrics``   accuracy and friends
- ``vislab.plots``     loss/metric curves, image grids, filters
- ``vislab.kaggle``    writing Kaggle-style prediction CSVs
- ``vislab.pretrained`` resnet18 weights: torchvision's ImageNet ones or the kit's own

and the assignments' own helpers (``vislab.detection_*``, ``vislab.browser``, ``vislab.bn_*``...).
"""

__version__ = "0.1.0"
