#!/usr/bin/python3
"""nibabel 5.0 as the oracle for BatchCohort's FreeSurfer MGH/MGZ reader and writer.

usage: nibabel_mgh.py write OUT_DIR   -> MGH/MGZ files written by nibabel's MGHImage (several voxel types, oblique
                                         and left-handed affines, 4-D) and OUT_DIR/written.json [{"name","path"}]
       nibabel_mgh.py bad OUT_DIR     -> broken files (truncated, wrong version, little-endian, unsupported type,
                                         zero dims) and OUT_DIR/bad.json [{"name","path"}]
Reading is done by nibabel_read.py (shape, dtype, affine, get_fdata()).
"""
import gzip
import json
import os
import struct
import sys

import nibabel as nib
import numpy as np


def oblique(zooms, t, flip=False):
    a, b, c = 0.3, -0.2, 0.15
    rx = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    ry = np.array([[np.cos(c), 0, np.sin(c)], [0, 1, 0], [-np.sin(c), 0, np.cos(c)]])
    rz = np.array([[np.cos(b), -np.sin(b), 0], [np.sin(b), np.cos(b), 0], [0, 0, 1]])
    m = rz @ ry @ rx @ np.diag(zooms)
    if flip:
        m = m @ np.diag([-1, 1, 1])
    aff = np.eye(4)
    aff[:3, :3] = m
    aff[:3, 3] = t
    return aff


def write(out):
    rng = np.random.default_rng(11)
    cases = []

    def add(name, fname, data, affine, tr=None):
        img = nib.MGHImage(data, affine)
        if tr is not None:
            img.header.set_zooms(tuple(img.header.get_zooms()[:3]) + (tr,))
        p = os.path.join(out, fname)
        img.to_filename(p)
        cases.append({'name': name, 'path': p})

    add('uint8 mgz oblique', 'u8.mgz', rng.integers(0, 255, (7, 6, 5)).astype(np.uint8), oblique([1.0, 1.2, 1.5], [10, -20, 30]))
    add('int32 mgz left-handed', 'i32.mgz', rng.integers(-2**31, 2**31 - 1, (6, 5, 4)).astype(np.int32), oblique([0.9, 1.1, 2.0], [-5, 7, 9], flip=True))
    add('float32 mgh oblique', 'f32.mgh', (rng.normal(size=(8, 7, 6)) * 1000).astype(np.float32), oblique([2.0, 2.0, 3.0], [-50.5, 60.25, -7]))
    add('int16 mgz LIA conformed', 'i16.mgz', rng.integers(-32768, 32767, (9, 8, 7)).astype(np.int16),
        np.array([[-1, 0, 0, 4.5], [0, 0, 1, -4], [0, -1, 0, 3.5], [0, 0, 0, 1.0]]))
    add('float32 4-D mgz (3 frames)', 'f4d.mgz', rng.normal(size=(5, 4, 3, 3)).astype(np.float32), oblique([1.5, 1.5, 1.5], [1, 2, 3]), tr=2000.0)
    add('odd dims mgz', 'odd.mgz', rng.integers(0, 255, (5, 3, 7)).astype(np.uint8), oblique([1.25, 0.75, 1.0], [0, 0, 0]))
    json.dump(cases, open(os.path.join(out, 'written.json'), 'w'))


def bad(out):
    good = nib.MGHImage(np.arange(4 * 4 * 4, dtype=np.float32).reshape(4, 4, 4), np.eye(4))
    raw = good.header.binaryblock + b'\0' * (284 - len(good.header.binaryblock))
    raw = raw[:284] + good.get_fdata().astype('>f4').tobytes(order='F')
    cases = []

    def add(name, fname, data, gz=True):
        p = os.path.join(out, fname)
        with (gzip.open(p, 'wb') if gz else open(p, 'wb')) as f:
            f.write(data)
        cases.append({'name': name, 'path': p})

    add('truncated voxels', 'truncated.mgz', raw[:284 + 100])
    add('header cut short', 'short.mgh', raw[:50], gz=False)
    add('version 2', 'version.mgz', struct.pack('>i', 2) + raw[4:])
    add('little-endian header', 'little.mgz', struct.pack('<i', 1) + raw[4:])
    add('type LONG (2)', 'long.mgz', raw[:20] + struct.pack('>i', 2) + raw[24:])
    add('zero depth', 'zero.mgz', raw[:12] + struct.pack('>i', 0) + raw[16:])
    add('not gzip data', 'plain_named.mgz', b'\x1f\x8b' + b'garbage' * 10, gz=False)
    json.dump(cases, open(os.path.join(out, 'bad.json'), 'w'))


if __name__ == '__main__':
    {'write': write, 'bad': bad}[sys.argv[1]](sys.argv[2])
