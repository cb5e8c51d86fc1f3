"""Known-wrong answers of a2_bn_folding (IN5400 mandatory 1, part 2)."""

from autograder.known_wrong import KnownWrong

KNOWN_WRONG = {
    "forgets_eps_in_case_b": KnownWrong("adjust_running_stats", '''
@torch.no_grad()
def adjust_running_stats(bn, n):
    bn.running_mean /= n
    bn.running_var /= n**2
''', "case_b_exact", 'only up to eps',
        zeroes={"test_adjust_running_stats": "leaves eps unscaled"}),
    "detaches_the_normalisation": KnownWrong("normalized_conv", '''
class NormalizedConv2d(nn.Module):
    def __init__(self, conv, eps=1e-12):
        super().__init__()
        self.weight = nn.Parameter(conv.weight.detach().clone())
        self.bias = None if conv.bias is None else nn.Parameter(conv.bias.detach().clone())
        self.conv_args = (conv.stride, conv.padding, conv.dilation, conv.groups)
        self.eps = eps

    def norms(self):
        return torch.sqrt(self.weight.var(dim=(1, 2, 3)) + self.eps)

    def forward(self, X):
        n = self.norms().detach()
        bias = None if self.bias is None else self.bias / n
        return F.conv2d(X, self.weight / n[:, None, None, None], bias, *self.conv_args)
''', "normalized_conv_gradient", 'treats n_c as a constant',
        zeroes={"test_normalized_conv_gradient": "n_c depends on W"}),
    "folds_with_batch_statistics": KnownWrong("fold_model", '''
def fold_model(model):
    folded = copy.deepcopy(model).eval()
    bn_inputs = {}
    hooks = [folded.get_submodule(bn_name).register_forward_hook(
                 lambda module, inputs, output, name=bn_name: bn_inputs.update({name: inputs[0]}))
             for _, bn_name in conv_bn_pairs(folded)]
    with torch.no_grad():
        folded(X_compare)
    for hook in hooks:
        hook.remove()
    for conv_name, bn_name in conv_bn_pairs(folded):
        bn = copy.deepcopy(folded.get_submodule(bn_name))
        with torch.no_grad():  # the statistics of this batch, as BatchNorm uses in train mode
            bn.running_mean.copy_(bn_inputs[bn_name].mean(dim=(0, 2, 3)))
            bn.running_var.copy_(bn_inputs[bn_name].var(dim=(0, 2, 3), unbiased=False))
        folded.set_submodule(conv_name, fold_conv_bn(folded.get_submodule(conv_name), bn))
        folded.set_submodule(bn_name, nn.Identity())
    return folded
''', "folded_model_matches", 'running_mean and running_var',
        zeroes={"test_fold_model": "not statistics of a batch"}),
    "mutates_the_original_model": KnownWrong("convert_model", '''
def convert_model(model, adjust_bn):
    for conv_name, bn_name in conv_bn_pairs(model):
        normalized = NormalizedConv2d(model.get_submodule(conv_name))
        with torch.no_grad():
            adjust_bn(model.get_submodule(bn_name), normalized.norms())
        model.set_submodule(conv_name, normalized)
    return model
''', "converter_copies_the_model", 'changed the original model',
        zeroes={"test_convert_model_copies": "return a converted copy, not the original"}),
    "normalized_conv_ignores_its_eps": KnownWrong("normalized_conv", '''
class NormalizedConv2d(nn.Module):
    def __init__(self, conv, eps=1e-12):
        super().__init__()
        self.weight = nn.Parameter(conv.weight.detach().clone())
        self.bias = None if conv.bias is None else nn.Parameter(conv.bias.detach().clone())
        self.conv_args = (conv.stride, conv.padding, conv.dilation, conv.groups)

    def norms(self):
        return torch.sqrt(self.weight.var(dim=(1, 2, 3)) + 1e-12)

    def forward(self, X):
        n = self.norms()
        bias = None if self.bias is None else self.bias / n
        return F.conv2d(X, self.weight / n[:, None, None, None], bias, *self.conv_args)
''', "normalized_conv_forward", 'ignores the eps'),
    "hard_codes_eps_in_case_b": KnownWrong("adjust_running_stats", '''
@torch.no_grad()
def adjust_running_stats(bn, n):
    bn.running_mean /= n
    bn.running_var.copy_((bn.running_var + 1e-5) / n**2 - 1e-5)
''', "case_b_exact", "use each BatchNorm's own `bn.eps`"),
    "case_a_changes_running_stats": KnownWrong("adjust_affine", '''
@torch.no_grad()
def adjust_affine(bn, n):
    bn.running_mean /= n
    bn.running_var.copy_((bn.running_var + bn.eps) / n**2 - bn.eps)
''', "case_a_exact", 'changes only bias and weight'),
    "fold_ignores_eps": KnownWrong("fold_conv_bn", '''
@torch.no_grad()
def fold_conv_bn(conv, bn):
    scale = bn.weight / torch.sqrt(bn.running_var)
    folded = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride,
                       conv.padding, conv.dilation, conv.groups, bias=True)
    folded.weight.copy_(conv.weight * scale[:, None, None, None])
    bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
    folded.bias.copy_((bias - bn.running_mean) * scale + bn.bias)
    return folded
''', "folded_pair_matches", 'use bn.eps'),
}
#: the student of the graded sample class, with the four mistakes a TA meets most, one per cell
CLASS = {"wrong": ["forgets_eps_in_case_b", "detaches_the_normalisation",
                   "folds_with_batch_statistics", "mutates_the_original_model"]}
