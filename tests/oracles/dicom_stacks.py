"""Writes a DICOM folder whose one series holds two stacks of different orientation, and reports what pydicom reads.

usage: dicom_stacks.py SRC_FOLDER OUT_FOLDER FILE...
Copies the first 6 files of SRC_FOLDER unchanged (stack A) and the next 3 with ImageOrientationPatient rotated by
30 degrees about the slice normal (stack B; same SeriesInstanceUID). Then prints JSON: for each FILE given (any
DICOM file), pydicom's TransferSyntaxUID and ImageOrientationPatient; and, for the written folder, the
ImageOrientationPatient of each stack as pydicom reads it from the files.
"""
import json
import math
import os
import sys

import pydicom

src, out, files = sys.argv[1], sys.argv[2], sys.argv[3:]
os.makedirs(out, exist_ok=True)
names = sorted(f for f in os.listdir(src) if f.endswith(".dcm"))
stacks = {"A": None, "B": None}
for i, n in enumerate(names[:9]):
    ds = pydicom.dcmread(os.path.join(src, n))
    if i >= 6:
        r = [float(v) for v in ds.ImageOrientationPatient[:3]]
        c = [float(v) for v in ds.ImageOrientationPatient[3:]]
        a = math.radians(30)
        r2 = [math.cos(a) * r[k] + math.sin(a) * c[k] for k in range(3)]
        c2 = [-math.sin(a) * r[k] + math.cos(a) * c[k] for k in range(3)]
        ds.ImageOrientationPatient = [f"{v:.6f}" for v in r2 + c2]
        ds.InstanceNumber = 100 + i
    ds.save_as(os.path.join(out, n))
    key = "A" if i < 6 else "B"
    stacks[key] = [float(v) for v in pydicom.dcmread(os.path.join(out, n)).ImageOrientationPatient]

res = {"stacks": stacks, "files": {}}
for f in files:
    ds = pydicom.dcmread(f, stop_before_pixels=True)
    iop = ds.get("ImageOrientationPatient")
    res["files"][f] = {"syntax": str(ds.file_meta.TransferSyntaxUID), "syntax_name": ds.file_meta.TransferSyntaxUID.name,
                       "iop": [float(v) for v in iop] if iop is not None else None}
print(json.dumps(res))
