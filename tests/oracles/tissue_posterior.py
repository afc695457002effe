#!/usr/bin/python3
"""The tissue classifier's prior (MAP) step, computed independently with numpy.

usage: tissue_posterior.py REQUEST.json RESULT.json
REQUEST: {"y": [...], "csf": [...], "gm": [...], "wm": [...], "w": weight, "centres": [c0, c1, c2]}
         (y: the bias-corrected intensities of the voxels inside the mask; csf/gm/wm: the atlas priors at those voxels)
RESULT:  {"labels": [0|1|2 per voxel], "margin": [log-posterior gap between the best two classes], "sigma2": pooled variance}

Model: nearest-centre labels give the pooled within-class variance s2; the posterior of class c is proportional to
(w*P(c) + (1-w)/3) * N(y; centre_c, s2); the label is its argmax (normalised posteriors via logsumexp)."""
import json
import sys

import numpy as np
from scipy.special import logsumexp

req = json.load(open(sys.argv[1]))
y = np.asarray(req["y"], dtype=np.float64)
mu = np.asarray(req["centres"], dtype=np.float64)
w = float(req["w"])
P = np.stack([np.asarray(req[k], dtype=np.float64) for k in ("csf", "gm", "wm")], axis=1)

nearest = np.argmin(np.abs(y[:, None] - mu[None, :]), axis=1)
s2 = np.mean((y - mu[nearest]) ** 2)
prior = w * P + (1.0 - w) / 3.0
loglik = -0.5 * np.log(2 * np.pi * s2) - (y[:, None] - mu[None, :]) ** 2 / (2 * s2)
logpost = np.log(prior) + loglik
logpost -= logsumexp(logpost, axis=1, keepdims=True)
labels = np.argmax(logpost, axis=1)
srt = np.sort(logpost, axis=1)
margin = srt[:, -1] - srt[:, -2]
json.dump({"labels": labels.tolist(), "margin": margin.tolist(), "sigma2": float(s2)}, open(sys.argv[2], "w"))
