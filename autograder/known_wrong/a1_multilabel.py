"""Known-wrong answers of a1_multilabel (IN5400 mandatory 1, CS498DL MP3 part 1)."""

from autograder.known_wrong import KnownWrong

AP_IGNORING_TIES = '''
def average_precision(scores, labels):
    order = torch.argsort(scores, descending=True)
    hits = labels[order].double()
    if hits.sum() == 0:
        return 0.0
    precision = torch.cumsum(hits, 0) / torch.arange(1, len(hits) + 1)
    return float((precision * hits).sum() / hits.sum())
'''
FOUR_CHANNEL_REINITIALISED = '''
def four_channel_resnet(model):
    model = copy.deepcopy(model)
    model.conv1 = nn.Conv2d(4, 64, kernel_size=7, stride=2, padding=3, bias=False)
    return model
'''
FOUR_CHANNEL_ZERO_NIR = '''
def four_channel_resnet(model):
    model = copy.deepcopy(model)
    conv = nn.Conv2d(4, 64, kernel_size=7, stride=2, padding=3, bias=False)
    with torch.no_grad():
        conv.weight[:, :3] = model.conv1.weight
        conv.weight[:, 3] = 0
    model.conv1 = conv
    return model
'''
FOUR_CHANNEL_DEFAULT_INIT = FOUR_CHANNEL_ZERO_NIR.replace(
    "        conv.weight[:, 3] = 0\n", "")
FOUR_CHANNEL_COPIES_RED = FOUR_CHANNEL_ZERO_NIR.replace(
    "conv.weight[:, 3] = 0", "conv.weight[:, 3] = model.conv1.weight[:, 0]")
LOSS_NAIVE = '''
class MultiLabelBCELoss(nn.Module):
    def forward(self, y_hat, y):
        p = torch.sigmoid(y_hat)
        return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()
'''
LOSS_SUMMED = '''
class MultiLabelBCELoss(nn.Module):
    def forward(self, y_hat, y):
        return (y_hat.clamp(min=0) - y_hat * y + torch.log1p(torch.exp(-y_hat.abs()))).sum()
'''
LOSS_DETACHED = '''
class MultiLabelBCELoss(nn.Module):
    def forward(self, y_hat, y):
        x = y_hat.detach()
        return (x.clamp(min=0) - x * y + torch.log1p(torch.exp(-x.abs()))).mean()
'''
TAIL_AT_OR_ABOVE = '''
def tail_accuracy(scores, labels, t):
    above = scores >= t
    count = above.sum(0).float()
    return torch.where(count > 0, (above & (labels == 1)).sum(0) / count.clamp(min=1),
                       torch.tensor(float("nan")))
'''
TAIL_ZERO_FOR_EMPTY = '''
def tail_accuracy(scores, labels, t):
    above = scores > t
    return (above & (labels == 1)).sum(0) / above.sum(0).clamp(min=1)
'''
TOP_K_FIRST_K_OF_SORTED = '''
def top_k_tail_accuracy(scores, labels, t, k=50):
    order = torch.argsort(scores, dim=0, descending=True, stable=True)[:k]  # Tensor[k, C]
    top_scores, top_labels = scores.gather(0, order), labels.gather(0, order)
    above = top_scores > t
    count = above.sum(0).float()
    correct = (above & (top_labels == 1)).sum(0).float()
    return torch.where(count > 0, correct / count.clamp(min=1), torch.tensor(float("nan")))
'''
TOP_K_WITHOUT_THRESHOLD = '''
def top_k_tail_accuracy(scores, labels, t, k=50):
    kept = scores >= scores.topk(min(k, len(scores)), dim=0).values[-1]
    return (kept & (labels == 1)).sum(0) / kept.sum(0)
'''
TOP_K_MORE_THAN_N = '''
def top_k_tail_accuracy(scores, labels, t, k=50):
    kept = (scores >= scores.topk(k, dim=0).values[-1]) & (scores > t)
    count = kept.sum(0).float()
    return torch.where(count > 0, (kept & (labels == 1)).sum(0) / count.clamp(min=1),
                       torch.tensor(float("nan")))
'''
LAST_LAYER_NOT_FROZEN = '''
def build_model(regime, pretrained, num_classes):
    if regime == "scratch":
        return torchvision.models.resnet18(num_classes=num_classes)
    model = copy.deepcopy(pretrained)
    model.fc = nn.Linear(512, num_classes)
    return model
'''
TWO_NETWORKS_RGB_ONLY = '''
class TwoNetworks(nn.Module):
    def __init__(self, rgb_net, nir_net, num_classes):
        super().__init__()
        rgb_net.fc = nn.Linear(512, num_classes)
        self.rgb_net = rgb_net

    def forward(self, X):
        return self.rgb_net(X[:, :3])
'''
COOCCURRENCE_BY_COLUMN = '''
def cooccurrence(labels):
    counts = labels.float().T @ labels.float()
    return counts / counts.diag().clamp(min=1)[None, :]
'''


KNOWN_WRONG = {
    "ap_ignoring_ties": KnownWrong(
        "average_precision", AP_IGNORING_TIES, "average_precision", "with ties",
        zeroes={"test_average_precision": "tied scores are one threshold"}),
    "four_channel_reinitialised": KnownWrong(
        "four_channel", FOUR_CHANNEL_REINITIALISED, "four_channel", "RGB filters of conv1 changed",
        zeroes={"test_four_channel": "keep the RGB filters"}),
    "four_channel_zero_nir": KnownWrong("four_channel", FOUR_CHANNEL_ZERO_NIR, "four_channel",
                                        "Kaiming"),
    "four_channel_default_init": KnownWrong("four_channel", FOUR_CHANNEL_DEFAULT_INIT,
                                            "four_channel", "default initialisation"),
    "four_channel_copies_red": KnownWrong("four_channel", FOUR_CHANNEL_COPIES_RED, "four_channel",
                                          "copy the RGB ones"),
    "loss_naive": KnownWrong("loss", LOSS_NAIVE, "bce_loss", "not finite"),
    "loss_summed": KnownWrong("loss", LOSS_SUMMED, "bce_loss", "mean of BCE-with-logits"),
    "loss_detached": KnownWrong("loss", LOSS_DETACHED, "bce_loss", "carries no gradient"),
    "tail_at_or_above": KnownWrong("tail_accuracy", TAIL_AT_OR_ABOVE, "tail_accuracy",
                                   "strictly above"),
    "tail_zero_for_empty": KnownWrong("tail_accuracy", TAIL_ZERO_FOR_EMPTY, "tail_accuracy",
                                      "must give NaN"),
    "top_k_first_k_of_sorted": KnownWrong(
        "top_k_tail_accuracy", TOP_K_FIRST_K_OF_SORTED, "top_k_tail_accuracy",
        "tied with the k-th highest score",
        zeroes={"test_top_k_tail_accuracy": "tied with the k-th highest score"}),
    "top_k_without_threshold": KnownWrong("top_k_tail_accuracy", TOP_K_WITHOUT_THRESHOLD,
                                          "top_k_tail_accuracy", "above t"),
    "top_k_more_than_n": KnownWrong("top_k_tail_accuracy", TOP_K_MORE_THAN_N,
                                    "top_k_tail_accuracy", "torch.topk needs k <= N"),
    "last_layer_not_frozen": KnownWrong("build_model", LAST_LAYER_NOT_FROZEN, "model_regimes",
                                        "only fc trains"),
    "two_networks_rgb_only": KnownWrong("two_networks", TWO_NETWORKS_RGB_ONLY, "two_networks",
                                        "expected"),
    "cooccurrence_by_column": KnownWrong("cooccurrence", COOCCURRENCE_BY_COLUMN, "cooccurrence",
                                         "divide by the count of i"),
}
#: the students of the graded sample class, by the mistakes in their notebook
CLASS = {"ties": ["ap_ignoring_ties", "top_k_first_k_of_sorted"], "reinit": ["four_channel_reinitialised"]}
