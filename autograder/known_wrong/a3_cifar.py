"""Known-wrong answers of a3_cifar (TDT4265 assignment 3, CS498DL MP3 part 1B)."""

from autograder.known_wrong import KnownWrong

#: the convolution by hand of a student report in ``shared/seeds``: two entries of the first row
#: wrong (-13 and -2 are right)
CONV_TWO_ENTRIES_WRONG = '''
convention = "cross-correlation"
conv_result = np.array([[2, -1, 11, 0, -11],
                        [10, -4, 8, 2, -18],
                        [14, -1, -5, 6, -9]])
'''
OUTPUT_SIZE_WITHOUT_PADDING = '''
def output_size(size, kernel_size, stride=1, padding=0):
    return (size - kernel_size) // stride + 1
'''
#: every child of resnet18 but fc: the average pooling is still in, so the maps are 1 x 1
LAST_CONV_AFTER_POOLING = '''
def last_conv_activations(model, X):
    with torch.no_grad():
        return nn.Sequential(*list(model.children())[:-1])(X)[0]
'''
#: TDT4265's shape for a 224 x 224 input, not the photograph's
LAST_CONV_SHAPE_FOR_224 = '''
last_conv_shape = (512, 7, 7)
'''

KNOWN_WRONG = {
    "conv_two_entries_wrong": KnownWrong(
        "conv_by_hand", CONV_TWO_ENTRIES_WRONG, "conv_by_hand", "2 of the 15 entries are wrong",
        zeroes={"test_conv_by_hand": "2 of the 15 entries are wrong"}),
    "output_size_without_padding": KnownWrong(
        "output_size", OUTPUT_SIZE_WITHOUT_PADDING, "output_size_function", "returned 28",
        zeroes={"test_output_size": "AssertionError"}),
    "last_conv_after_pooling": KnownWrong(
        "last_conv_activations", LAST_CONV_AFTER_POOLING, "last_conv_activations",
        "before the average pooling",
        zeroes={"test_last_conv_activations": "before the average pooling"}),
    "last_conv_shape_for_224": KnownWrong(
        "last_conv_shape", LAST_CONV_SHAPE_FOR_224, "last_conv_activations", "224 x 224",
        zeroes={"test_last_conv_activations": "224 x 224"}),
}
#: the partly correct student of the demo and of the graded sample class
CLASS = {"partial": ["conv_two_entries_wrong", "output_size_without_padding"]}
