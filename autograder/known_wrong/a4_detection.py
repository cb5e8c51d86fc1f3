"""Known-wrong answers of a4_detection (UiB INF265 project 2)."""

from autograder.known_wrong import KnownWrong

#: the box and class terms must count only images with a digit
BOX_LOSS_ON_EMPTY_IMAGES = '''
def localization_loss(y_hat, y, box_weight=1.0):
    present = y[:, 0] == 1
    loss = F.binary_cross_entropy_with_logits(y_hat[:, 0], y[:, 0])
    loss = loss + box_weight * F.mse_loss(y_hat[:, 1:5], y[:, 1:5])
    if present.any():
        loss = loss + F.cross_entropy(y_hat[present, 5:], y[present, 5].long())
    return loss
'''
#: NaN on a batch without any digit: the mean over an empty selection
NAN_WITHOUT_DIGITS = '''
def localization_loss(y_hat, y, box_weight=1.0):
    present = y[:, 0] == 1
    return (F.binary_cross_entropy_with_logits(y_hat[:, 0], y[:, 0])
            + box_weight * F.mse_loss(y_hat[present, 1:5], y[present, 1:5])
            + F.cross_entropy(y_hat[present, 5:], y[present, 5].long()))
'''
X_AND_Y_SWAPPED = '''
IMAGE_HEIGHT, IMAGE_WIDTH = 48, 60


def to_pixel_xyxy(boxes):
    scale = torch.tensor([IMAGE_HEIGHT, IMAGE_WIDTH, IMAGE_HEIGHT, IMAGE_WIDTH], dtype=torch.float)
    return box_convert(boxes.float() * scale, in_fmt="cxcywh", out_fmt="xyxy")


def to_relative_cxcywh(boxes):
    scale = torch.tensor([IMAGE_HEIGHT, IMAGE_WIDTH, IMAGE_HEIGHT, IMAGE_WIDTH], dtype=torch.float)
    return box_convert(boxes.float(), in_fmt="xyxy", out_fmt="cxcywh") / scale
'''

KNOWN_WRONG = {
    "box_loss_on_empty_images": KnownWrong(
        "localization_loss", BOX_LOSS_ON_EMPTY_IMAGES, "localization_loss",
        "applied to images without a digit",
        zeroes={"test_localization_loss": "applied to the empty image too",
                "test_detection_loss": "applied to cells without a digit"}),
    "nan_without_digits": KnownWrong(
        "localization_loss", NAN_WITHOUT_DIGITS, "localization_loss",
        "not finite on a batch without any digit"),
    "x_and_y_swapped": KnownWrong(
        "box_conversions", X_AND_Y_SWAPPED, "box_conversions", "x and y look swapped",
        zeroes={"test_box_conversions": "are x and y swapped",
                "test_decode_grid": "x and y look swapped"}),
}
#: the student of the graded sample class: a loss and a conversion that other cells build on
CLASS = {"wrong": ["box_loss_on_empty_images", "x_and_y_swapped"]}
