#!/usr/bin/python3
"""Independent checks of synthetic cohorts and atlases with nibabel 5.0 / numpy / scipy / scikit-image.

usage: synth_oracle.py REQUEST.json RESULT.json
REQUEST: {"tasks": [ ... ]}, each task one of
  {"op": "read", "path": P, "npy": OUT}            nib.load(P): class, shape, zooms, dtype, affine, axcodes; raw data → OUT (.npy, x-fastest)
  {"op": "count", "path": P}                       voxel counts per value (np.unique) and the voxel volume (mm³)
  {"op": "bright_centroid", "path": P, "threshold": T}
                                                   world (RAS mm) centroid, through nibabel's affine, of voxels > T
  {"op": "colin27_icv", "head": H, "bet": B, "npy": OUT}
                                                   the ICV recipe of BatchCohort's AtlasDerivation, written again with
                                                   scipy.ndimage and skimage: fill(bet>0); fill(closing(ball 4 mm) | B0);
                                                   shell = dilation(ball 5 mm) & ~B1; T = Otsu(shell); band = propagation of B1
                                                   through shell & (h <= T) (6-connected), less B1; levels = 2-means of the band
                                                   voxels not 26-adjacent to B1; cut = their midpoint (the inner table);
                                                   ICV = fill(propagation of B1 through band & (h > cut)). Mask → OUT; volume, T, cut.
RESULT: {"results": [ ... ]} in task order."""
import json
import sys

import numpy as np


def ball(r):
    n = int(np.floor(r))
    g = np.mgrid[-n:n + 1, -n:n + 1, -n:n + 1].astype(np.float64)
    return (g[0] ** 2 + g[1] ** 2 + g[2] ** 2) <= r * r


def main():
    import nibabel as nib
    req = json.load(open(sys.argv[1]))
    out = []
    for t in req["tasks"]:
        op = t["op"]
        if op == "read":
            img = nib.load(t["path"])
            a = np.asarray(img.dataobj)
            if "npy" in t:
                np.save(t["npy"], np.asfortranarray(a))
            out.append({"class": type(img).__name__, "shape": list(a.shape), "zooms": [float(z) for z in img.header.get_zooms()],
                        "dtype": str(img.get_data_dtype()), "affine": img.affine.tolist(),
                        "axcodes": "".join(nib.aff2axcodes(img.affine))})
        elif op == "count":
            img = nib.load(t["path"])
            a = np.asarray(img.dataobj)
            v, c = np.unique(a, return_counts=True)
            out.append({"counts": {str(int(x)): int(n) for x, n in zip(v, c)},
                        "voxel_mm3": float(np.prod(img.header.get_zooms()[:3]))})
        elif op == "bright_centroid":
            img = nib.load(t["path"])
            a = np.asarray(img.dataobj).astype(np.float64)
            idx = np.argwhere(a > t["threshold"])
            c = idx.mean(axis=0)
            w = img.affine @ np.append(c, 1.0)
            out.append({"count": int(len(idx)), "voxel": c.tolist(), "world": w[:3].tolist()})
        elif op == "colin27_icv":
            from scipy import ndimage as ndi
            from skimage.filters import threshold_otsu
            h = np.asarray(nib.load(t["head"]).dataobj).astype(np.float32)
            b = np.asarray(nib.load(t["bet"]).dataobj) != 0
            b0 = ndi.binary_fill_holes(b)
            b1 = ndi.binary_fill_holes(ndi.binary_closing(b0, ball(4)) | b0)
            shell = ndi.binary_dilation(b1, ball(5)) & ~b1
            thr = float(threshold_otsu(h[shell]))
            six = ndi.generate_binary_structure(3, 1)
            dark = ndi.binary_propagation(b1, structure=six, mask=b1 | (shell & (h <= thr)))
            band = dark & ~b1
            touching = ndi.binary_dilation(b1, ndi.generate_binary_structure(3, 3))
            v = h[band & ~touching].astype(np.float64)
            c = np.percentile(v, [10, 90])
            for _ in range(200):
                lab = np.abs(v - c[0]) > np.abs(v - c[1])
                nc = np.array([v[~lab].mean(), v[lab].mean()])
                if np.allclose(nc, c):
                    break
                c = nc
            cut = float(c.mean())
            icv = ndi.binary_fill_holes(ndi.binary_propagation(b1, structure=six, mask=b1 | (band & (h > cut))))
            np.save(t["npy"], np.asfortranarray(icv.astype(np.uint8)))
            out.append({"icv_ml": float(icv.sum()) / 1000.0, "bet_ml": float(b0.sum()) / 1000.0, "threshold": thr, "inner_table": cut})
        else:
            raise SystemExit("unknown op " + op)
    json.dump({"results": out}, open(sys.argv[2], "w"))


main()
