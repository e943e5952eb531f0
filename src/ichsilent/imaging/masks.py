"""Head masks shared by QC and drift features (pure numpy/scipy, computed once per series).

Masks are computed on an in-plane subsampled grid (``stride``) for speed: a 512 x 512 x 32
series is labelled as 256 x 256 x 32. The intracranial cavity is found per slice as the
non-bone regions that the skull encloses: every non-bone region connected (in-plane,
4-connectivity) to the image border is outside — air joins the scalp to the border — so what
remains is enclosed by bone. Small enclosed pockets (diploe, air cells) are discarded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

BONE_HU = 300
TISSUE_HU = -300
INTRACRANIAL_HU = (-50, 150)  # CSF, brain, blood; not air, fat or calcification
MIN_CAVITY_MM2 = 300.0  # an enclosed region smaller than this is not the cranial cavity

# In-plane 4-connectivity, no connection between slices: one label call labels every slice.
_IN_PLANE = np.zeros((3, 3, 3), dtype=bool)
_IN_PLANE[1] = ndimage.generate_binary_structure(2, 1)


@dataclass(frozen=True, slots=True)
class HeadMasks:
    """Boolean masks (z, y/stride, x/stride) of one series."""

    stride: int
    pixel_area_mm2: float  # area of one mask pixel
    tissue: NDArray[np.bool_]  # HU > -300
    bone: NDArray[np.bool_]  # HU >= 300
    enclosed: NDArray[np.bool_]  # non-bone regions enclosed by bone (any HU), large ones
    intracranial: NDArray[np.bool_]  # enclosed and within INTRACRANIAL_HU

    def subsample(self, hu: NDArray[np.int16]) -> NDArray[np.int16]:
        """The HU voxels that the masks describe."""
        return hu[:, :: self.stride, :: self.stride]


def head_masks(
    hu: NDArray[np.int16], pixel_spacing: tuple[float, float], *, stride: int | None = None
) -> HeadMasks:
    """Tissue, bone, enclosed and intracranial masks of an HU volume (z, y, x).

    ``stride`` defaults to 1 below 512 columns and 2 from 512 (masks at about 256 x 256).
    """
    if hu.ndim != 3:
        raise ValueError(f"hu has shape {hu.shape}; expected a (z, y, x) volume")
    if stride is None:
        stride = max(1, min(hu.shape[1], hu.shape[2]) // 256)
    sub = hu[:, ::stride, ::stride]
    area = pixel_spacing[0] * pixel_spacing[1] * stride * stride
    bone = sub >= BONE_HU
    labels, count = ndimage.label(~bone, structure=_IN_PLANE)
    outside = np.zeros(count + 1, dtype=bool)
    outside[0] = True
    for edge in (labels[:, 0, :], labels[:, -1, :], labels[:, :, 0], labels[:, :, -1]):
        outside[np.unique(edge)] = True
    sizes = np.bincount(labels.ravel(), minlength=count + 1)
    keep = ~outside & (sizes * area >= MIN_CAVITY_MM2)
    enclosed = keep[labels]
    lo, hi = INTRACRANIAL_HU
    intracranial = enclosed & (sub >= lo) & (sub <= hi)
    return HeadMasks(
        stride=stride,
        pixel_area_mm2=area,
        tissue=sub > TISSUE_HU,
        bone=bone,
        enclosed=enclosed,
        intracranial=intracranial,
    )


def central_slices(count: int, fraction: float = 1 / 3) -> NDArray[np.intp]:
    """Indices of the middle ``fraction`` of a stack (at least one slice)."""
    half = max(1, round(count * fraction / 2))
    mid = count // 2
    return np.arange(max(0, mid - half), min(count, mid + half))


def ring_coverage(bone: NDArray[np.bool_], tissue: NDArray[np.bool_], sectors: int = 36) -> float:
    """Fraction of angular sectors around the tissue centroid that contain bone (one slice)."""
    ty, tx = np.nonzero(tissue)
    by, bx = np.nonzero(bone)
    if ty.size == 0 or by.size == 0:
        return 0.0
    angles = np.arctan2(by - ty.mean(), bx - tx.mean())
    bins = ((angles + np.pi) / (2 * np.pi) * sectors).astype(np.intp) % sectors
    return float(np.count_nonzero(np.bincount(bins, minlength=sectors))) / sectors
