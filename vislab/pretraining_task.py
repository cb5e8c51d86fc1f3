"""The source task of the kit's own resnet18 checkpoint, built from what installed packages ship.

Two kinds of 64x64 images, half of every batch each, one network with one output per class of
both (photos: independent yes/no outputs; characters: one of 62):

- **printed characters** (62 classes: ``0-9``, ``A-Z``, ``a-z``) rendered from the 21 text fonts
  that matplotlib ships, composed over photo crops exactly as a3's textured digits are
  (:func:`vislab.data.glyphs_over_photos.compose_images`: warped, coloured, a distracting
  fragment, noise) at 32x32 and resized to 64x64. The fonts are print, a3's digits are
  handwriting: the task is related to a3, as ImageNet is to CIFAR-10, not the same;
- **photo collages** (22 labels, several at once: which shipped photos or textures a collage
  shows, :mod:`vislab.data.photo_sources`): a view covering 10-50 % of one photo's side fills
  the frame; often a band of another photo runs along the top or bottom, and a small round patch
  of a third is pasted somewhere. Views are flipped, tinted and change brightness and contrast:
  the scales and colours at which a1's scenes show their objects and surfaces.

Every image is drawn fresh from a seeded generator, so the task has no fixed size and no epoch.
"""

from functools import cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from vislab.data.glyphs_over_photos import compose_images
from vislab.data.photo_sources import photo_tensors

SIZE = 64
GLYPH_SIZE = 32  # printed characters are composed at a3's 32x32, then resized to SIZE
CHARACTERS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
#: the text fonts in matplotlib's fonts/ttf (the same files in every matplotlib install)
FONTS = ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf",
         "DejaVuSans-BoldOblique.ttf", "cmss10.ttf", "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf",
         "DejaVuSerif-Italic.ttf", "DejaVuSerif-BoldItalic.ttf", "STIXGeneral.ttf",
         "STIXGeneralBol.ttf", "STIXGeneralItalic.ttf", "STIXGeneralBolIta.ttf", "cmr10.ttf",
         "cmb10.ttf", "cmti10.ttf", "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf",
         "DejaVuSansMono-Oblique.ttf", "DejaVuSansMono-BoldOblique.ttf", "cmtt10.ttf"]
VIEW_SIDE = (0.1, 0.5)  # a frame-filling view's side, as a fraction of the photo's shorter side
PATCH_VIEW_SIDE = (0.04, 0.2)  # the same for a round patch
BAND_ROWS, PATCH_SIDE = (10, 21), (20, 31)  # a1's surfaces are bands, its small objects patches
BAND_P, PATCH_P = 0.5, 0.6


@cache
def printed_glyphs() -> tuple[torch.Tensor, torch.Tensor]:
    """Every (character, font) drawn white on black, its ink box scaled to fill a square.

    Returns glyphs (Tensor[K, 32, 32] in [0, 1]) and their character index (Tensor[K]) into
    :data:`CHARACTERS`; a font without a character is skipped.
    """
    import matplotlib  # only when pretraining: a notebook that only loads weights skips these
    from PIL import Image, ImageDraw, ImageFont

    font_dir = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    glyphs, labels = [], []
    for file in FONTS:
        font = ImageFont.truetype(str(font_dir / file), 96)
        for index, char in enumerate(CHARACTERS):
            canvas = Image.new("L", (160, 160))
            ImageDraw.Draw(canvas).text((80, 80), char, fill=255, font=font, anchor="mm")
            box = canvas.getbbox()
            if box is None or (box[2] - box[0]) * (box[3] - box[1]) < 50:
                continue
            side = max(box[2] - box[0], box[3] - box[1])
            centre_x, centre_y = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
            square = (centre_x - side / 2, centre_y - side / 2, centre_x + side / 2,
                      centre_y + side / 2)
            glyph = canvas.resize((GLYPH_SIZE, GLYPH_SIZE), Image.Resampling.BOX, box=square)
            glyphs.append(torch.from_numpy(np.asarray(glyph, dtype=np.float32) / 255))
            labels.append(index)
    return torch.stack(glyphs), torch.tensor(labels)


class PretrainingTask:
    """Endless batches of the source task (module docstring), drawn from ``seed``.

    ``classes`` are the photo names, then the characters. ``batch(n)`` returns X
    (Tensor[n, 3, 64, 64] in [0, 1], not normalised: ``n // 2`` photo collages, then printed
    characters), which photos each collage shows (Tensor[n // 2, 22] of 0/1) and each printed
    image's character (Tensor[n - n // 2] of indices into :data:`CHARACTERS`).
    """

    def __init__(self, seed: int = 0):
        self.generator = torch.Generator().manual_seed(seed)
        self.photo_names = sorted(photo_tensors())
        self.classes = [*self.photo_names, *CHARACTERS]

    def batch(self, n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        X_collages, photos = self.photo_collages(n // 2)
        X_printed, characters = self.printed_characters(n - n // 2)
        return torch.cat([X_collages, X_printed]), photos, characters

    def printed_characters(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """n printed characters over photo crops (Tensor[n, 3, 64, 64]) and their character."""
        glyphs, labels = printed_glyphs()
        picked = torch.randint(len(glyphs), (n,), generator=self.generator)
        others = torch.randint(len(glyphs), (n,), generator=self.generator)
        X = compose_images(glyphs[picked], glyphs[others], self.generator).float() / 255
        return F.interpolate(X, size=SIZE, mode="bilinear", align_corners=False), labels[picked]

    def photo_collages(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """n collages (Tensor[n, 3, 64, 64]) and which photos each shows (Tensor[n, 22] of 0/1).

        A frame-filling view of one photo; half the time a band of 10-20 rows of another at
        the top or bottom; 60 % of the time a round patch of 20-30 px of a third.
        """
        g = self.generator
        count = len(self.photo_names)
        main, band, patch = (torch.randint(count, (n,), generator=g) for _ in range(3))
        X = self._views(main, SIZE, VIEW_SIDE)
        photos = F.one_hot(main, count).float()
        band_X = self._views(band, SIZE, VIEW_SIDE)
        side = int(torch.randint(*PATCH_SIDE, (1,), generator=g))
        patch_X, mask = self._views(patch, side, PATCH_VIEW_SIDE), _round_mask(side)
        has_band = torch.rand(n, generator=g) < BAND_P
        has_patch = torch.rand(n, generator=g) < PATCH_P
        rows = torch.randint(*BAND_ROWS, (n,), generator=g)
        at_top = torch.rand(n, generator=g) < 0.5
        corner = torch.randint(SIZE - side + 1, (n, 2), generator=g)
        for i in range(n):
            if has_band[i]:
                band_rows = slice(0, rows[i]) if at_top[i] else slice(SIZE - rows[i], SIZE)
                X[i, :, band_rows] = band_X[i, :, band_rows]
                photos[i, band[i]] = 1
            if has_patch[i]:
                top, left = corner[i].tolist()
                region = X[i, :, top:top + side, left:left + side]
                region.mul_(1 - mask).add_(patch_X[i] * mask)
                photos[i, patch[i]] = 1
        return X, photos

    def _views(self, photo: torch.Tensor, size: int, side_range: tuple[float, float],
               ) -> torch.Tensor:
        """A random square view (Tensor[len(photo), 3, size, size]) of each photo index in
        ``photo``, its side a fraction in ``side_range`` of the photo's shorter side, maybe
        flipped, with jittered colours."""
        g = self.generator
        X = torch.empty(len(photo), 3, size, size)
        for index, name in enumerate(self.photo_names):
            image = photo_tensors()[name]
            rows = (photo == index).nonzero().flatten()
            if len(rows) == 0:
                continue
            height, width = image.shape[1:]
            side = side_range[0] + (side_range[1] - side_range[0]) * torch.rand(len(rows), generator=g)
            scale = torch.stack([side * min(height, width) / width,
                                 side * min(height, width) / height], dim=1)  # (x, y) half-extents
            centre = (torch.rand(len(rows), 2, generator=g) * 2 - 1) * (1 - scale)
            flip = torch.where(torch.rand(len(rows), generator=g) < 0.5, -1.0, 1.0)
            theta = torch.zeros(len(rows), 2, 3)
            theta[:, 0, 0], theta[:, 1, 1], theta[:, :, 2] = scale[:, 0] * flip, scale[:, 1], centre
            grid = F.affine_grid(theta, [len(rows), 3, size, size], align_corners=False)
            X[rows] = F.grid_sample(image[None].expand(len(rows), -1, -1, -1), grid,
                                    mode="bilinear", align_corners=False)
        return self._jitter_colours(X)

    def _jitter_colours(self, X: torch.Tensor) -> torch.Tensor:
        """Tint each channel by 0.6-1.2, brightness by 0.7-1.3, contrast by 0.7-1.3."""
        g, n = self.generator, len(X)
        tint = 0.6 + 0.6 * torch.rand(n, 3, 1, 1, generator=g)
        brightness = 0.7 + 0.6 * torch.rand(n, 1, 1, 1, generator=g)
        contrast = 0.7 + 0.6 * torch.rand(n, 1, 1, 1, generator=g)
        mean = X.mean(dim=(1, 2, 3), keepdim=True)
        return ((X - mean) * contrast + mean).mul(tint * brightness).clamp(0, 1)


@cache
def _round_mask(side: int) -> torch.Tensor:
    """A disc with a soft edge (Tensor[side, side] in [0, 1])."""
    centre = (side - 1) / 2
    y, x = torch.meshgrid(torch.arange(side), torch.arange(side), indexing="ij")
    distance = ((y - centre) ** 2 + (x - centre) ** 2).sqrt() / (side / 2)
    return ((1 - distance) * 6).clamp(0, 1)
