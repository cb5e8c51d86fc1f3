"""Glyphs composed over crops of the shipped photos, 32x32: the images of a3's textured digits
and of the printed characters in the kit's pretraining task (:mod:`vislab.pretraining_task`).

A glyph is scaled, rotated, sheared and moved, drawn in a colour that mostly stands out from its
background (a quietened random crop of a shipped photo or texture) at a random opacity, with a
small fragment of another glyph as a distraction and a little pixel noise.
"""

import math

import torch
import torch.nn.functional as F

from vislab.data.photo_sources import photo_tensors

IMAGE_SIZE = 32


def _affine(n: int, scale: torch.Tensor, angle: torch.Tensor, shift: torch.Tensor,
            shear: torch.Tensor) -> torch.Tensor:
    """Sampling matrices (Tensor[n, 2, 3]) mapping output coordinates to source coordinates."""
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 0, 1] = cos / scale, (-sin + shear) / scale
    theta[:, 1, 0], theta[:, 1, 1] = sin / scale, cos / scale
    theta[:, :, 2] = shift
    return theta


def _glyph_masks(glyphs: torch.Tensor, scale: torch.Tensor, generator: torch.Generator,
                 max_shift: float) -> torch.Tensor:
    """Warp square glyphs (Tensor[n, H, W] in [0, 1]) to 32x32 masks (Tensor[n, 1, 32, 32])."""
    n = len(glyphs)
    angle = (torch.rand(n, generator=generator) - 0.5) * math.radians(40)
    shear = (torch.rand(n, generator=generator) - 0.5) * 0.4
    shift = (torch.rand(n, 2, generator=generator) - 0.5) * 2 * max_shift
    theta = _affine(n, scale, angle, shift, shear)
    grid = F.affine_grid(theta, (n, 1, IMAGE_SIZE, IMAGE_SIZE), align_corners=False)
    blurred = F.grid_sample(glyphs[:, None], grid, mode="bilinear", padding_mode="zeros",
                            align_corners=False)
    return torch.sigmoid((blurred - 0.35) * 12)  # crisp strokes, not a blurred 8x8 blob


def _backgrounds(n: int, generator: torch.Generator) -> torch.Tensor:
    """Random crops of shipped photos, resized to Tensor[n, 3, 32, 32] in [0, 1]."""
    sources = list(photo_tensors().values())
    choice = torch.randint(len(sources), (n,), generator=generator)
    out = torch.empty(n, 3, IMAGE_SIZE, IMAGE_SIZE)
    for index in range(len(sources)):
        rows = (choice == index).nonzero().flatten()
        if len(rows) == 0:
            continue
        zoom = 0.08 + 0.3 * torch.rand(len(rows), generator=generator)  # crop side / image side
        centre = (torch.rand(len(rows), 2, generator=generator) - 0.5) * 2 * (1 - zoom[:, None])
        theta = torch.zeros(len(rows), 2, 3)
        theta[:, 0, 0], theta[:, 1, 1], theta[:, :, 2] = zoom, zoom, centre
        grid = F.affine_grid(theta, (len(rows), 3, IMAGE_SIZE, IMAGE_SIZE), align_corners=False)
        source = sources[index][None].expand(len(rows), -1, -1, -1)
        out[rows] = F.grid_sample(source, grid, mode="bilinear", align_corners=False)
    return out


def compose_images(glyphs: torch.Tensor, distractors: torch.Tensor, generator: torch.Generator,
                   ) -> torch.Tensor:
    """Compose images (Tensor[n, 3, 32, 32] uint8) of ``glyphs`` over photo crops (module docstring).

    ``glyphs`` and ``distractors`` (Tensor[n, H, W] in [0, 1], ink = 1) are square glyphs of any
    size that fill their box: sklearn's 8x8 handwritten digits for a3, 32x32 printed characters
    for the kit's pretraining task.
    """
    n = len(glyphs)
    background = _backgrounds(n, generator)
    mean = background.mean(dim=(2, 3), keepdim=True)
    background = mean + 0.6 * (background - mean)  # busy, but quieter than the glyph
    scale = 0.65 + 0.3 * torch.rand(n, generator=generator)
    glyph = _glyph_masks(glyphs, scale, generator, max_shift=0.25)
    fragment = _glyph_masks(distractors, 0.3 + 0.15 * torch.rand(n, generator=generator),
                            generator, max_shift=0.9)
    colour = torch.rand(n, 3, 1, 1, generator=generator)
    colour = 0.25 * colour + 0.75 * (1 - mean)  # mostly, not always, visible on its background
    opacity = 0.7 + 0.3 * torch.rand(n, 1, 1, 1, generator=generator)
    image = background * (1 - opacity * glyph) + colour * opacity * glyph
    fragment_colour = torch.rand(n, 3, 1, 1, generator=generator)
    image = image * (1 - 0.3 * fragment) + fragment_colour * 0.3 * fragment
    noise = 0.04 * torch.rand(n, 1, 1, 1, generator=generator)
    image = image + noise * torch.randn(image.shape, generator=generator)
    return (image.clamp(0, 1) * 255).round().to(torch.uint8)
