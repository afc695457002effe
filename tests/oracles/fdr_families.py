#!/usr/bin/env python3
"""Reference Benjamini-Hochberg q-values per FDR family for a BatchCohort stats.csv (statsmodels multipletests, fdr_bh).

usage: fdr_families.py STATS.csv MODE GROUP_COLUMN ANALYSES.json  ->  prints JSON {"q": [...], "family": [...]} per row

MODE: per-test | per-analysis | all. A row is in a family when it has a p-value and is a t-test, a correlation, or an
OLS term of the group (term starting with GROUP_COLUMN + "[T."); intercepts and covariate terms are not corrected.
ANALYSES.json maps a compared measure, or "measure~with" for a correlation, to the manifest analysis that asked for it
(used by per-analysis). The families are formed here from the manifest's meaning, not read from the file.
"""
import json
import sys

import pandas as pd
from statsmodels.stats.multitest import multipletests

path, mode, group, analyses_path = sys.argv[1:5]
analyses = json.load(open(analyses_path))
df = pd.read_csv(path, keep_default_na=True)
keys = []
for _, r in df.iterrows():
    test = r["test"]
    if pd.isna(r["p"]) or (test == "ols" and not str(r["term"]).startswith(group + "[T.")):
        keys.append(None)
        continue
    if mode == "all":
        keys.append("all")
    elif mode == "per-test":
        keys.append(test)
    else:
        a = analyses[f'{r["measure"]}~{r["term"]}'] if test in ("pearson", "spearman") else analyses[r["measure"]]
        keys.append(f"{a}:{test}")
q = [None] * len(df)
for fam in set(k for k in keys if k is not None):
    idx = [i for i, k in enumerate(keys) if k == fam]
    _, qv, _, _ = multipletests([float(df["p"].iloc[i]) for i in idx], method="fdr_bh")
    for i, v in zip(idx, qv):
        q[i] = float(v)
print(json.dumps({"q": q, "family": keys}))
