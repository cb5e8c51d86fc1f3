"""Evidence of a3_cifar, collected in the student's kernel by the hidden test cells.

Each function runs the student's answer (or code, on hidden inputs) and records what came out
(:func:`autograder.evidence.record`); it decides nothing. The judges
(``autograder/checks/a3_cifar/judges.py``) compare the records with references computed outside.
"""

import copy
import functools

from autograder.evidence import describe_error, outcome, parameter_facts, record

IMAGE = [[1, 0, 2, 3, 1], [3, 2, 0, 7, 0], [0, 6, 1, 1, 4]]
SOBEL = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
#: (size, kernel_size, stride, padding), including sizes that do not divide evenly
OUTPUT_SIZE_INPUTS = [(32, 5, 1, 2), (28, 3, 1, 0), (512, 9, 1, 0), (504, 2, 2, 0), (252, 3, 2, 0),
                      (7, 3, 2, 1), (224, 7, 2, 3), (10, 4, 3, 1), (5, 5, 1, 0)]
HIDDEN_MODEL_SEED = 3
#: the hidden image of the last-layer check: sides that strides 2 do not halve evenly
LAST_CONV_IMAGE_SIZE = (100, 70)
NUM_CLASSES = 10


def conv_by_hand(conv_result, convention) -> None:
    record("conv_by_hand", conv_result=conv_result, convention=convention)


def invariance_layer(answer) -> None:
    record("invariance_layer", answer=answer)


def output_size_function(output_size) -> None:
    record("output_size_function",
           results=[outcome(output_size, *case) for case in OUTPUT_SIZE_INPUTS])


def size_answers(same_padding_5x5, kernel_for_504, pooled_size, strided_conv_size) -> None:
    record("size_answers", same_padding_5x5=same_padding_5x5, kernel_for_504=kernel_for_504,
           pooled_size=pooled_size, strided_conv_size=strided_conv_size)


def parameter_count(baseline_parameters) -> None:
    record("parameter_count", baseline_parameters=baseline_parameters)


def improved_models(*model_classes) -> None:
    """For each class: whether it builds an ``nn.Module``, the shape of its output on a batch of
    three 3x32x32 images, its parameters and the kinds of its modules (or the error it raised)."""
    import torch
    from torch import nn

    models = []
    for model_class in model_classes:
        facts = {"name": getattr(model_class, "__name__", repr(model_class)[:80])}
        try:
            model = model_class()
            facts["is_module"] = isinstance(model, nn.Module)
            with torch.no_grad():
                facts["output_shape"] = list(model.eval()(torch.randn(3, 3, 32, 32)).shape)
            facts["parameters"] = parameter_facts(model)
            facts["modules"] = [type(module).__name__ for module in model.modules()]
        except Exception as error:  # noqa: BLE001 (student code)
            facts["error"] = describe_error(error)
        models.append(facts)
    record("improved_models", models=models)


def transfer_model(prepare_transfer_model) -> None:
    """What ``prepare_transfer_model`` makes of the hidden resnet18 (a fresh copy in training
    mode, as a loaded backbone comes): its parameters and output shape."""
    import torch

    made = outcome(prepare_transfer_model, hidden_resnet18(HIDDEN_MODEL_SEED).train(), NUM_CLASSES)
    if "error" in made:
        record("transfer_model", error=made["error"])
        return
    model = made["value"]
    try:
        with torch.no_grad():
            shape = list(model.eval()(torch.randn(2, 3, 64, 64)).shape)
        record("transfer_model", parameters=parameter_facts(model), output_shape=shape,
               fc_out_features=getattr(getattr(model, "fc", None), "out_features", None))
    except Exception as error:  # noqa: BLE001 (student code)
        record("transfer_model", error=describe_error(error))


@functools.cache
def _hidden_resnet18(seed: int):
    """resnet18 as torchvision initialises it from ``seed`` (built once per process: 0.08 s)."""
    import torch
    import torchvision

    with torch.random.fork_rng():  # the student's random state is left as it was
        torch.manual_seed(seed)
        return torchvision.models.resnet18().eval()


def hidden_resnet18(seed: int):
    """A fresh copy of the resnet18 initialised from ``seed`` (eval mode)."""
    return copy.deepcopy(_hidden_resnet18(seed))


def hidden_model_and_image(seed: int, size: tuple[int, int] = (96, 80)):
    """:func:`hidden_resnet18` and one random image (Tensor[1, 3, *size]) drawn from ``seed``."""
    import torch

    image = torch.rand(1, 3, *size, generator=torch.Generator().manual_seed(seed))
    return hidden_resnet18(seed), image


def first_layer_activations(activations_fn) -> None:
    model, X = hidden_model_and_image(HIDDEN_MODEL_SEED)
    record("first_layer_activations", **outcome(activations_fn, model, X))


def last_conv_activations(activations_fn, last_conv_shape) -> None:
    """The shape stated for the photograph's last-layer maps, and what the student's function
    returns for a hidden image under the hidden resnet18."""
    model, X = hidden_model_and_image(HIDDEN_MODEL_SEED, LAST_CONV_IMAGE_SIZE)
    record("last_conv_activations", shape_answer=last_conv_shape,
           **outcome(activations_fn, model, X))
