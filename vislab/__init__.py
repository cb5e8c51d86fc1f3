"""vislab: the helper package that the course notebooks import.

The shared core, each module with one job:

- ``vislab.paths``      where cached datasets, checkpoints and run artefacts live
- ``vislab.grading``    whether a notebook runs under nbgrader (skip or shorten training)
- ``vislab.seeds``      seeded random generators
- ``vislab.data``       the dataset cache and registry, seeded DataLoaders, the real-format
                        readers (CIFAR-10, PASCAL VOC, Planet, MNIST idx, INF265)
- ``vislab.training``   ``train_one_epoch``, ``evaluate``, ``fit`` with a history
- ``vislab.metrics``    accuracy, parameter counts
- ``vislab.plots``      loss/metric curves, image grids, filters
- ``vislab.kaggle``     writing Kaggle-style prediction CSVs
- ``vislab.pretrained`` resnet18 weights: torchvision's ImageNet ones or the kit's own

and one subpackage per assignment for what only it uses (its embedded dataset, its loader, its
drawings): ``vislab.a1_multilabel``, ``vislab.a2_bn_folding``, ``vislab.a3_cifar``,
``vislab.a4_detection``. The core never imports an assignment subpackage.
"""

__version__ = "0.1.0"
