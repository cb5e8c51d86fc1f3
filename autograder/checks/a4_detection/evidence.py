"""Evidence of a4_detection, collected in the student's kernel by the hidden test cells.

Each function runs the student's functions on hidden inputs and records what came out
(:func:`autograder.evidence.record`); it decides nothing. The judges
(``autograder/checks/a4_detection/judges.py``) make the same inputs again with the input
functions below (``loss_cases``, ``iou_cases``, ...), and compare the records with references
computed outside. The inputs are seeded, so both sides make the same ones; they are no secret
(a student who knew them would still have to produce the right outputs).

A value the student returns is recorded as ``{"value": ..., "type": "Tensor", "is_tensor": true}``
(tensors as arrays) or ``{"error": "TypeError: ..."}`` when the call raised; a detection (the
dictionaries of ``decode_grid`` and ``remove_duplicates``) as ``{"is_dict": true, "keys": [...],
"boxes": <value>, "scores": <value>, "labels": <value>}``.

Conventions shared with the notebook (see :mod:`vislab.data.inf265_labels`): localisation outputs
``y_hat`` are ``Tensor[N, 5 + C]`` (presence logit, x, y, w, h, C class logits); detection outputs
``Tensor[N, 2, 3, 5 + C]``; pixel boxes are xyxy in a 48 x 60 image.
"""

import torch
import torch.nn.functional as F
from torchvision.ops import box_convert

from autograder.evidence import describe_error, outcome, record
from vislab.data.inf265_labels import (
    DETECTION_CLASSES,
    GRID_COLS,
    GRID_ROWS,
    IMAGE_HEIGHT,
    IMAGE_WIDTH,
    objects_to_grid,
)
from vislab.seeds import seeded_generator

#: (x, y, w, h) relative to the image -> pixels
PIXEL_SCALE = torch.tensor([IMAGE_WIDTH, IMAGE_HEIGHT, IMAGE_WIDTH, IMAGE_HEIGHT],
                           dtype=torch.float)
DETECTION_KEYS = ("boxes", "scores", "labels")
METRIC_KEYS = ("accuracy", "mean_iou", "score")


# ---------------------------------------------------------------- recording what came back

def returned(function, *args, **kwargs) -> dict:
    """What the student's ``function`` gave: ``{"value", "type", "is_tensor"}`` or ``{"error"}``."""
    result = outcome(function, *args, **kwargs)
    return _described(result["value"]) if "value" in result else result


def _described(value) -> dict:
    return {"value": value, "type": type(value).__name__,
            "is_tensor": isinstance(value, torch.Tensor)}


def _detection(value) -> dict:
    """One image's ``{"boxes", "scores", "labels"}``, each entry described."""
    if not isinstance(value, dict):
        return {"is_dict": False, "type": type(value).__name__}
    return {"is_dict": True, "keys": [str(key) for key in value],
            **{key: _described(value[key]) for key in DETECTION_KEYS if key in value}}


def returned_detection(function, *args, **kwargs) -> dict:
    """A function that returns one detection dictionary: ``_detection`` of it, or the error."""
    result = outcome(function, *args, **kwargs)
    return _detection(result["value"]) if "value" in result else result


def returned_detections(function, *args, **kwargs) -> dict:
    """A function that returns a list of detections: ``{"images": [...]}``, ``{"type"}`` when
    it is not a list, or the error."""
    result = outcome(function, *args, **kwargs)
    if "error" in result:
        return result
    value = result["value"]
    if not isinstance(value, list):
        return {"type": type(value).__name__}
    return {"images": [_detection(item) for item in value]}


def returned_number(function, *args, **kwargs) -> dict:
    """A function that returns one number: ``{"value": float}``, or what went wrong."""
    result = outcome(function, *args, **kwargs)
    return _as_number(result["value"]) if "value" in result else result


def _as_number(value) -> dict:
    try:
        return {"value": float(value)}
    except (TypeError, ValueError, RuntimeError) as error:
        return {"not_a_number": type(value).__name__, "error": describe_error(error)}


# ---------------------------------------------------------------- hidden inputs

def random_relative_boxes(num: int, generator: torch.Generator) -> torch.Tensor:
    """Relative (x, y, w, h) boxes inside the image (``Tensor[num, 4]``)."""
    w = 0.1 + 0.5 * torch.rand(num, generator=generator)
    h = 0.1 + 0.5 * torch.rand(num, generator=generator)
    x = w / 2 + (1 - w) * torch.rand(num, generator=generator)
    y = h / 2 + (1 - h) * torch.rand(num, generator=generator)
    return torch.stack([x, y, w, h], dim=1)


def pixel_corners(relative: torch.Tensor) -> torch.Tensor:
    """Relative (x, y, w, h) -> pixel (x1, y1, x2, y2), to make hidden inputs in pixels."""
    return box_convert(relative * PIXEL_SCALE, "cxcywh", "xyxy")


def random_objects(generator: torch.Generator, num_classes: int = DETECTION_CLASSES,
                   ) -> torch.Tensor:
    """Objects of one image (``Tensor[K, 6]``), at most one centre per cell, none on a cell
    border."""
    cells = torch.randperm(GRID_ROWS * GRID_COLS, generator=generator)[
        :int(torch.randint(1, 5, (1,), generator=generator))]
    rows = []
    for cell in cells.tolist():
        row, col = divmod(cell, GRID_COLS)
        x_cell, y_cell = (0.05 + 0.9 * torch.rand(2, generator=generator)).tolist()
        w, h = (0.1 + 0.3 * torch.rand(2, generator=generator)).tolist()
        label = float(torch.randint(0, num_classes, (1,), generator=generator))
        rows.append([1.0, (col + x_cell) / GRID_COLS, (row + y_cell) / GRID_ROWS, w, h, label])
    return torch.tensor(rows)


def pixel_targets(objects: list[torch.Tensor]) -> list[dict]:
    """Objects of each image (``Tensor[K, 6]``) -> ``{"boxes", "labels"}`` in pixels."""
    return [{"boxes": pixel_corners(rows[:, 1:5]), "labels": rows[:, 5].long()}
            for rows in objects]


def perfect_outputs(grid: torch.Tensor, num_classes: int = DETECTION_CLASSES) -> torch.Tensor:
    """Outputs ``Tensor[N, 2, 3, 5 + C]`` that say exactly the grid labels ``[N, 2, 3, 6]``."""
    outputs = torch.zeros(*grid.shape[:3], 5 + num_classes)
    outputs[..., 0] = torch.where(grid[..., 0] == 1, 8.0, -8.0)
    outputs[..., 1:5] = grid[..., 1:5]
    outputs[..., 5:] = 4 * F.one_hot(grid[..., 5].long(), num_classes).float()
    return outputs


def conversion_inputs() -> tuple[torch.Tensor, torch.Tensor]:
    """Relative boxes for ``to_pixel_xyxy`` and pixel boxes for ``to_relative_cxcywh``."""
    relative = random_relative_boxes(20, seeded_generator(41))
    return relative, pixel_corners(relative)


def loss_cases() -> list[tuple[torch.Tensor, torch.Tensor, str]]:
    """(y_hat ``Tensor[N, 15]``, y ``Tensor[N, 6]``, what) for the localisation loss."""
    generator = seeded_generator(7)
    cases = []
    for num, present_share, what in ((12, 0.5, "a batch with and without digits"),
                                     (6, 0.0, "a batch without any digit"),
                                     (5, 1.0, "a batch where every image holds a digit")):
        y = torch.zeros(num, 6)
        present = torch.arange(num) < round(num * present_share)
        y[present, 0] = 1
        y[present, 1:5] = random_relative_boxes(int(present.sum()), generator)
        y[present, 5] = torch.randint(0, 10, (int(present.sum()),), generator=generator).float()
        y = y[torch.randperm(num, generator=generator)]
        y_hat = torch.randn(num, 15, generator=generator)
        y_hat[:, 1:5] = 0.5 + 0.3 * y_hat[:, 1:5]
        cases.append((y_hat, y, what))
    return cases


def iou_cases() -> list[tuple[torch.Tensor, torch.Tensor, str]]:
    """(boxes1, boxes2, what): random, disjoint, touching, contained, identical, zero-area, empty."""
    generator = seeded_generator(3)
    random1 = pixel_corners(random_relative_boxes(7, generator))
    random2 = pixel_corners(random_relative_boxes(5, generator))
    return [
        (random1, random2, "random boxes"),
        (torch.tensor([[0.0, 0, 10, 10]]), torch.tensor([[20.0, 20, 30, 30]]), "disjoint boxes"),
        (torch.tensor([[0.0, 0, 10, 10]]), torch.tensor([[10.0, 0, 20, 10]]),
         "boxes that touch along an edge"),
        (torch.tensor([[0.0, 0, 20, 20]]), torch.tensor([[5.0, 5, 15, 15]]),
         "a box inside another"),
        (torch.tensor([[3.0, 4, 13, 24]]), torch.tensor([[3.0, 4, 13, 24]]), "identical boxes"),
        (torch.tensor([[5.0, 5, 5, 5], [0, 0, 10, 10]]), torch.tensor([[5.0, 5, 5, 5]]),
         "zero-area boxes (IoU 0 when the union is empty)"),
        (torch.zeros(0, 4), random2, "no boxes on one side (an empty 0 x M result)"),
    ]


def metrics_inputs() -> tuple[torch.Tensor, torch.Tensor]:
    """Outputs with some right presences, and their labels (the first loss case)."""
    y_hat, y, _ = loss_cases()[0]
    y_hat[:4, 0] = torch.where(y[:4, 0] == 1, 3.0, -3.0)
    return y_hat, y


def architecture_input() -> torch.Tensor:
    """A batch of three images (``Tensor[3, 1, 48, 60]``)."""
    return torch.rand(3, 1, IMAGE_HEIGHT, IMAGE_WIDTH, generator=seeded_generator(5))


def hidden_histories() -> dict:
    """Three runs; the best one by its best epoch is not the best one by its last epoch."""
    from vislab.training import History

    def run(name, scores):
        history = History(name=name, metric_name="score",
                          epochs=[{"epoch": i + 1, "train_loss": 1.0, "val_loss": 1.0,
                                   "val_score": s} for i, s in enumerate(scores)])
        history.best_epoch = max(range(len(scores)), key=scores.__getitem__) + 1
        return history

    return {"first": run("first", [0.5, 0.8, 0.6]), "second": run("second", [0.6, 0.7, 0.75]),
            "third": run("third", [0.2, 0.3, 0.4])}


def encode_inputs() -> list[torch.Tensor]:
    """The objects of six hidden images (``Tensor[K, 6]`` each)."""
    generator = seeded_generator(11)
    return [random_objects(generator) for _ in range(6)]


def decode_inputs() -> tuple[list[torch.Tensor], torch.Tensor, torch.Tensor]:
    """The objects of four images, outputs that say exactly their grid labels, and random
    outputs of three images (``Tensor[3, 2, 3, 7]``, negative widths too)."""
    generator = seeded_generator(13)
    objects = [random_objects(generator) for _ in range(4)]
    random = torch.randn(3, GRID_ROWS, GRID_COLS, 5 + DETECTION_CLASSES, generator=generator)
    return objects, perfect_outputs(objects_to_grid(objects)), random


def detection_loss_cases() -> list[tuple[torch.Tensor, torch.Tensor, str]]:
    """(y_hat ``Tensor[5, 2, 3, 7]``, grid labels ``Tensor[5, 2, 3, 6]``, what)."""
    generator = seeded_generator(17)
    grid = objects_to_grid([random_objects(generator) for _ in range(5)])
    outputs = torch.randn(5, GRID_ROWS, GRID_COLS, 5 + DETECTION_CLASSES, generator=generator)
    return [(outputs, grid, "a batch with digits"),
            (outputs, torch.zeros_like(grid), "a batch without any digit")]


def nms_input() -> dict:
    """Overlapping boxes of two classes: two duplicates of class 0, one of class 1."""
    return {
        "boxes": torch.tensor([[0.0, 0, 10, 20], [1, 1, 11, 21], [0, 0, 10, 20], [30, 5, 40, 25],
                               [31, 5, 41, 25], [2, 0, 12, 20]]),
        "scores": torch.tensor([0.9, 0.8, 0.7, 0.6, 0.95, 0.3]),
        "labels": torch.tensor([0, 0, 1, 1, 1, 0]),
    }


def ap_cases() -> list[tuple[torch.Tensor, torch.Tensor, int, str]]:
    """(scores, is_tp, num_true, what): hand cases, a missed true box, random detections."""
    generator = seeded_generator(19)
    cases = [
        (torch.tensor([0.9, 0.8, 0.7]), torch.tensor([True, True, True]), 3, "all right"),
        (torch.tensor([0.9, 0.8, 0.7, 0.6]), torch.tensor([True, False, True, False]), 2,
         "a false positive between two true positives"),
        (torch.tensor([0.3, 0.9, 0.6]), torch.tensor([True, False, True]), 4,
         "unsorted scores and true boxes never detected"),
        (torch.tensor([0.5]), torch.tensor([False]), 1, "only a false positive"),
    ]
    for _ in range(3):
        num = int(torch.randint(5, 30, (1,), generator=generator))
        flags = torch.rand(num, generator=generator) < 0.6
        cases.append((torch.rand(num, generator=generator), flags,
                      int(flags.sum()) + int(torch.randint(0, 4, (1,), generator=generator)),
                      "random detections"))
    return cases


def _noisy_detections(targets: list[dict], generator: torch.Generator) -> list[dict]:
    """Jittered true boxes, duplicates, wrong labels and false alarms."""
    predictions = []
    for target in targets:
        boxes, labels = target["boxes"], target["labels"]
        jitter = 3 * torch.randn(len(boxes), 4, generator=generator)
        extra = pixel_corners(random_relative_boxes(2, generator))
        flipped = labels.clone()
        flipped[torch.rand(len(labels), generator=generator) < 0.15] ^= 1
        all_boxes = torch.cat([boxes + jitter, boxes[:1] + 1.0, extra])
        all_labels = torch.cat([flipped, labels[:1],
                                torch.randint(0, DETECTION_CLASSES, (2,), generator=generator)])
        predictions.append({"boxes": all_boxes, "labels": all_labels,
                            "scores": torch.rand(len(all_boxes), generator=generator)})
    return predictions


def map_inputs() -> tuple[list[dict], list[dict]]:
    """Noisy detections of 25 hidden images and their true boxes (pixel xyxy)."""
    generator = seeded_generator(23)
    targets = pixel_targets([random_objects(generator) for _ in range(25)])
    return _noisy_detections(targets, generator), targets


def _copies(detections: list[dict]) -> list[dict]:
    return [{key: value.clone() for key, value in detection.items()} for detection in detections]


# ---------------------------------------------------------------- what each test cell records

def box_conversions(to_pixel_xyxy, to_relative_cxcywh) -> None:
    relative, pixels = conversion_inputs()
    record("box_conversions", to_pixel=returned(to_pixel_xyxy, relative.clone()),
           to_relative=returned(to_relative_cxcywh, pixels.clone()))


def _input_gradient(loss_fn, y_hat: torch.Tensor, y: torch.Tensor) -> dict:
    """The gradient of the student's loss with respect to ``y_hat`` (``None`` when it has none)."""
    y_hat = y_hat.clone().requires_grad_(True)
    try:
        loss_fn(y_hat, y.clone()).backward()
    except Exception as error:  # noqa: BLE001 (student code)
        return {"error": describe_error(error)}
    return {"value": y_hat.grad}


def localization_loss(loss_fn) -> None:
    """The loss on three hidden batches, with ``box_weight=5``, and its gradient."""
    cases = loss_cases()
    y_hat, y, _ = cases[0]
    record("localization_loss",
           cases=[returned(loss_fn, y_hat.clone(), y.clone()) for y_hat, y, _ in cases],
           weighted=returned(loss_fn, y_hat.clone(), y.clone(), box_weight=5.0),
           gradient=_input_gradient(loss_fn, y_hat, y))


def iou(iou_fn) -> None:
    record("iou", results=[returned(iou_fn, boxes1.clone(), boxes2.clone())
                           for boxes1, boxes2, _ in iou_cases()])


def localization_metrics(metrics_fn) -> None:
    result = outcome(metrics_fn, *metrics_inputs())
    if "error" in result:
        record("localization_metrics", error=result["error"])
    elif not isinstance(result["value"], dict):
        record("localization_metrics", type=type(result["value"]).__name__)
    else:
        metrics = result["value"]
        record("localization_metrics", keys=[str(key) for key in metrics],
               values={key: _as_number(metrics[key]) for key in METRIC_KEYS if key in metrics})


def architectures(builders) -> None:
    """For each builder: whether it builds an ``nn.Module``, its output on three images, its
    parameter count (or the error it raised)."""
    if not isinstance(builders, dict):
        record("architectures", type=type(builders).__name__)
        return
    models = []
    for name, build in builders.items():
        facts = {"name": str(name)[:80], "repr": repr(name)[:80]}
        models.append(facts)
        try:
            model = build()
        except Exception as error:  # noqa: BLE001 (student code)
            facts["build_error"] = describe_error(error)
            continue
        facts["is_module"] = isinstance(model, torch.nn.Module)
        if not facts["is_module"]:
            continue
        try:
            model.eval()
            with torch.no_grad():
                out = model(architecture_input())
            facts["output_shape"] = list(out.shape)
            facts["finite"] = bool(torch.isfinite(out).all())
            facts["num_parameters"] = sum(p.numel() for p in model.parameters())
        except Exception as error:  # noqa: BLE001 (student code)
            facts["forward_error"] = describe_error(error)
    record("architectures", models=models)


def select_best(select_fn) -> None:
    record("select_best", **outcome(select_fn, hidden_histories()))


def encode_grid(encode_fn) -> None:
    record("encode_grid", grids=[returned(encode_fn, objects.clone())
                                 for objects in encode_inputs()],
           empty=returned(encode_fn, torch.zeros(0, 6)))


def decode_grid(decode_fn) -> None:
    """Perfect outputs decoded with ``min_score=0.5``, random outputs with the default."""
    _, perfect, random = decode_inputs()
    record("decode_grid", perfect=returned_detections(decode_fn, perfect.clone(), min_score=0.5),
           random=returned_detections(decode_fn, random.clone()))


def detection_loss(loss_fn) -> None:
    record("detection_loss", results=[returned(loss_fn, y_hat.clone(), y.clone())
                                      for y_hat, y, _ in detection_loss_cases()])


def remove_duplicates(nms_fn) -> None:
    record("remove_duplicates",
           kept=returned_detection(nms_fn, _copies([nms_input()])[0], iou_threshold=0.5))


def average_precision(ap_fn) -> None:
    record("average_precision", values=[returned_number(ap_fn, scores.clone(), flags.clone(),
                                                        num_true)
                                        for scores, flags, num_true, _ in ap_cases()])


def mean_average_precision(map_fn) -> None:
    predictions, targets = map_inputs()
    record("mean_average_precision",
           **returned_number(map_fn, _copies(predictions), _copies(targets), iou_threshold=0.5))
