"""PASCAL VOC 2012 and 2007 as a multi-label classification dataset (20 labels per image).

The devkit's own layout is read, under a root such as ``VOCdevkit/VOC2012``::

    JPEGImages/<image_id>.jpg
    Annotations/<image_id>.xml                  (boxes; not needed for image labels)
    ImageSets/Main/<class>_<split>.txt          one line per image: "<image_id> <flag>"

The flag is ``1`` (the class is in the image), ``-1`` (it is not) or ``0`` ("difficult": the
image holds the class only as objects marked difficult, e.g. tiny or heavily occluded). VOC's
evaluation ignores difficult images; a multi-label loss needs a 0/1 target, so ``difficult``
chooses: ``"positive"`` (default, the object *is* in the image, as the IN5400 starter code does)
or ``"negative"``.

``python datasets.py prepare voc2012 --from DIR`` records where an existing copy is;
without ``--from`` torchvision's ``VOCDetection`` downloads it into the cache.
"""

from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from PIL import Image
from torchvision.transforms import v2

from vislab.data.registry import DatasetSpec
from vislab.paths import dataset_dir

VOC_CLASSES = ("aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair",
               "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant",
               "sheep", "sofa", "train", "tvmonitor")
DIFFICULT_AS = {"positive": 1, "negative": 0}
YEARS = ("2012", "2007")


def _read_flags(path: Path) -> dict[str, int]:
    """``image_id -> flag`` from one ``<class>_<split>.txt`` file."""
    flags = {}
    for line_number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2 or parts[1] not in ("1", "-1", "0"):
            raise ValueError(f"{path}, line {line_number}: expected '<image_id> <1|-1|0>', "
                             f"got {line!r}")
        flags[parts[0]] = int(parts[1])
    return flags


def read_image_set_labels(root: str | Path, split: str, classes: Sequence[str] = VOC_CLASSES,
                          difficult: str = "positive") -> tuple[list[str], torch.Tensor]:
    """Image ids and labels of one split from ``ImageSets/Main/<class>_<split>.txt``.

    Returns ``(ids, labels)``: ``ids`` sorted, ``labels`` (Tensor[N, len(classes)], float 0/1).
    Every class file must list the same images.
    """
    if difficult not in DIFFICULT_AS:
        raise ValueError(f"difficult must be one of {sorted(DIFFICULT_AS)}, got {difficult!r}")
    main = Path(root) / "ImageSets" / "Main"
    per_class = []
    for name in classes:
        path = main / f"{name}_{split}.txt"
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: is {root} a VOC root (the folder that "
                                    "holds JPEGImages/ and ImageSets/), and is the split right?")
        per_class.append(_read_flags(path))
    ids = sorted(per_class[0])
    if not ids:
        raise ValueError(f"{main / f'{classes[0]}_{split}.txt'} lists no images")
    for name, flags in zip(classes, per_class, strict=True):
        if set(flags) != set(ids):
            raise ValueError(f"{main / f'{name}_{split}.txt'} lists other images than "
                             f"{main / f'{classes[0]}_{split}.txt'}: the ImageSets disagree")
    as_label = {1: 1, -1: 0, 0: DIFFICULT_AS[difficult]}
    labels = torch.tensor([[as_label[flags[i]] for flags in per_class] for i in ids],
                          dtype=torch.float32)
    return ids, labels


def read_rgb(path: Path) -> torch.Tensor:
    """An image file as a uint8 tensor (3, H, W)."""
    with Image.open(path) as image:
        return v2.functional.pil_to_tensor(image.convert("RGB"))


class VocImages(torch.utils.data.Dataset):
    """The VOC images ``ids`` (in that order), without labels: a test set as students see it.

    Items are ``X``, the image after ``transform`` (uint8 Tensor[3, H, W] without one).
    """

    def __init__(self, root: str | Path, ids: Sequence[str], transform: Callable | None = None):
        self.root, self.ids, self.transform = Path(root), list(ids), transform

    def __len__(self) -> int:
        return len(self.ids)

    def image(self, index: int) -> torch.Tensor:
        path = self.root / "JPEGImages" / f"{self.ids[index]}.jpg"
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: the ImageSets list it but JPEGImages/ "
                                    "does not hold it (an incomplete copy of VOC?)")
        X = read_rgb(path)
        return self.transform(X) if self.transform else X

    def __getitem__(self, index: int) -> torch.Tensor:
        return self.image(index)


class VocMultilabel(VocImages):
    """Images of one VOC split with their 20 labels.

    Items are ``(X, y)``: ``X`` the image after ``transform`` (uint8 Tensor[3, H, W] without
    one), ``y`` (Tensor[20], float 0/1). ``ids[i]`` is the VOC image id of item ``i``.
    """

    def __init__(self, root: str | Path, split: str, transform: Callable | None = None,
                 difficult: str = "positive", indices: Sequence[int] | None = None):
        ids, labels = read_image_set_labels(root, split, VOC_CLASSES, difficult)
        if indices is not None:
            ids, labels = [ids[i] for i in indices], labels[list(indices)]
        super().__init__(root, ids, transform)
        self.classes, self.labels = VOC_CLASSES, labels

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.image(index), self.labels[index]


# --- where a prepared copy lives --------------------------------------------------------------

ROOT_FILE = "root.txt"


def find_voc_root(source: str | Path, year: str) -> Path:
    """The ``VOC<year>`` folder in ``source`` (``source`` itself, or ``VOCdevkit/VOC<year>``)."""
    source = Path(source).expanduser()
    for candidate in (source, source / f"VOC{year}", source / "VOCdevkit" / f"VOC{year}"):
        if (candidate / "JPEGImages").is_dir() and (candidate / "ImageSets" / "Main").is_dir():
            return candidate.resolve()
    raise FileNotFoundError(f"no VOC{year} copy under {source}: expected JPEGImages/ and "
                            f"ImageSets/Main/ in it or in VOCdevkit/VOC{year}/ below it")


def prepared_root(year: str) -> Path:
    """The root recorded by ``prepare``; raises with what to run when there is none."""
    record = dataset_dir(f"voc{year}") / ROOT_FILE
    if not record.exists():
        raise FileNotFoundError(f"PASCAL VOC {year} is not prepared: run `python datasets.py "
                                f"prepare voc{year} --from DIR` (DIR holds VOCdevkit/) or "
                                f"without --from to download it")
    return Path(record.read_text().strip())


def prepare(year: str, source: Path | None) -> Path:
    """Record an existing copy (``source``) or download one with torchvision; return its root."""
    if source is None:
        from torchvision.datasets import VOCDetection

        VOCDetection(dataset_dir(f"voc{year}"), year=year, image_set="trainval", download=True)
        source = dataset_dir(f"voc{year}")
    root = find_voc_root(source, year)
    (dataset_dir(f"voc{year}") / ROOT_FILE).write_text(str(root) + "\n")
    return root


def verify(year: str) -> str:
    root = prepared_root(year)
    summary = []
    for split in ("train", "val"):
        ids, labels = read_image_set_labels(find_voc_root(root, year), split)
        missing = [i for i in ids if not (root / "JPEGImages" / f"{i}.jpg").exists()]
        if missing:
            raise FileNotFoundError(f"{len(missing)} images of VOC{year} {split} are missing "
                                    f"from {root / 'JPEGImages'} (e.g. {missing[:3]})")
        summary.append(f"{split} {len(ids)} images, {labels.sum(1).mean():.2f} labels/image")
    return f"VOC{year} at {root}: " + "; ".join(summary)


DATASETS = [
    DatasetSpec(
        name=f"voc{year}", kind="real",
        description=f"PASCAL VOC {year}, 20 labels per image (ImageSets/Main classification lists)",
        prepare=lambda source, year=year: prepare(year, source),
        verify=lambda year=year: verify(year),
        is_ready=lambda year=year: (dataset_dir(f"voc{year}") / ROOT_FILE).exists(),
    )
    for year in YEARS
]
