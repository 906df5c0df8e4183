#!/usr/bin/env python3
"""Writes the seed corpora fuzz/corpus/<target>/ (committed; rerun after changing this).

Small valid inputs of every format the readers accept, plus a few near misses, so that the
fuzzers start from the interesting parts of each format instead of discovering the magic
numbers themselves. Standard library only (no NumPy): the .npy and IDX bytes are built here.
"""
import gzip
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
ROOT = os.path.dirname(HERE)


def npy(descr, shape, data, fortran=False, major=1, header_dict=None):
    d = header_dict or "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (
        descr, "True" if fortran else "False", shape)
    prefix = 10 if major == 1 else 12
    pad = (64 - (prefix + len(d) + 1) % 64) % 64
    header = (d + " " * pad + "\n").encode("latin1")
    size = struct.pack("<H", len(header)) if major == 1 else struct.pack("<I", len(header))
    return b"\x93NUMPY" + bytes([major, 0]) + size + header + data


def idx(dims, data, type_byte=0x08):
    return b"\x00\x00" + bytes([type_byte, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + data


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    shutil.rmtree(CORPUS, ignore_errors=True)
    f32 = struct.pack("<6f", 1, 2, 3, 4, 5, 6)
    f64 = struct.pack("<9d", *range(9))
    npys = {
        "f4_2x3": npy("<f4", "(2, 3)", f32),
        "f8_3x3_fortran": npy("<f8", "(3, 3)", f64, fortran=True),
        "f8_big_endian": npy(">f8", "(2, 2)", struct.pack(">4d", 1, -2, 3.5, 0)),
        "i8_vector": npy("<i8", "(4,)", struct.pack("<4q", 1, 0, -1, 7)),
        "i4_py2_shape": npy("<i4", "(2L, 2L)", struct.pack("<4i", 1, 2, 3, 4)),
        "u1_bool": npy("|b1", "(3,)", b"\x01\x00\x01"),
        "u2": npy("<u2", "(2,)", struct.pack("<2H", 1, 65535)),
        "scalar": npy("<f8", "()", struct.pack("<d", 3.0)),
        "empty": npy("<f4", "(0, 3)", b""),
        "v2_header": npy("<f4", "(2, 3)", f32, major=2),
        "v3_header": npy("<f4", "(2, 3)", f32, major=3),
        "truncated": npy("<f8", "(3, 3)", f64[:20]),
        "reordered_dict": npy("", "", f32, header_dict="{'shape': (3, 2), 'fortran_order': False, 'descr': '<f4'}"),
    }
    for name, data in npys.items():
        write("npy", name, data)

    # idx: the first byte is the expected number of dimensions (mod 4; 0 = any).
    images = idx([2, 3, 4], bytes(range(24)))
    labels = idx([5], bytes([0, 1, 2, 9, 3]))
    write("idx", "images_3d", b"\x03" + images)
    write("idx", "labels_1d", b"\x01" + labels)
    write("idx", "any_2d", b"\x00" + idx([2, 2], b"\x01\x02\x03\x04"))
    write("idx", "images_gzip", b"\x03" + gzip.compress(images, mtime=0))
    write("idx", "labels_gzip", b"\x01" + gzip.compress(labels, mtime=0))
    write("idx", "wrong_dims", b"\x02" + labels)
    write("idx", "short_data", b"\x03" + images[:-5])
    write("idx", "empty_dims", b"\x00" + idx([0, 28, 28], b""))

    # matrix: the first byte picks the reader (see fuzz_matrix.cpp):
    # 0 auto .csv, 1 auto .npy, 2 csv, 3 edges, 4 names + edges, 5 vector text, 6 vector .npy, 7 names.
    m = lambda mode, text: bytes([mode]) + (text.encode() if isinstance(text, str) else text)
    write("matrix", "auto_dense", m(0, "1, 2, 3\n4 5 6\n-7e-3,8,9\n"))
    write("matrix", "auto_edges", m(0, "pre,post,weight\n0,1,0.5\n1,0,-2\n2,2,1\n"))
    write("matrix", "auto_npy", m(1, npys["f4_2x3"]))
    write("matrix", "csv_ragged", m(2, "1,2\n3\n"))
    write("matrix", "csv_comments_blank", m(2, "# a matrix\n\n1 2\n3 4\n"))
    write("matrix", "edges_no_header", m(3, "0,1,1.0\n1,0,2.0\n0,1,0.5\n"))
    write("matrix", "edges_big_index", m(3, "0,1e300,1\n"))
    write("matrix", "names_edges", m(4, "[u'ADAL',\n u'ADAR',\n 'AVAL']\n--- edges ---\npre,post,weight\nADAL,ADAR,1\nAVAL,ADAL,-1\n"))
    write("matrix", "names_plain", m(4, "a\nb\nc\n--- edges ---\na,b,2\nc,c,1\n"))
    write("matrix", "vector_text", m(5, "1\n0\n1\n0.5\n"))
    write("matrix", "vector_npy", m(6, npys["i8_vector"]))
    write("matrix", "vector_nan", m(5, "1\nnan\n"))
    write("matrix", "names_quoted", m(7, "['AVAL', \"AVAR\",\n'unclosed\n"))

    table = ("classes:\n  - {name: e, fraction: 0.7}\n  - {name: i, fraction: 0.3}\n"
             "connection_probability:\n  e: [0.2, 0.5]\n  i: [0.6, 0.1]\n"
             "synaptic_weight:\n  e: [1.5, 2.0]\n  i: [-3.0, -1.0]\n")
    write("cell_types", "two_classes", table)
    write("cell_types", "one_class", "classes: [{name: x, fraction: 1}]\n"
          "connection_probability: {x: [1.0]}\nsynaptic_weight: {x: [-0.5]}\n")
    write("cell_types", "bad_probability", table.replace("0.2", "1.5"))
    write("cell_types", "missing_row", table.replace("  i: [0.6, 0.1]\n", ""))
    billeh = os.path.join(ROOT, "..", "shared", "data", "billeh_v1", "v1_cell_classes.yaml")
    if os.path.exists(billeh):
        with open(billeh, "rb") as f:
            write("cell_types", "billeh_v1", f.read())

    # config: the YAML file, then --set strings after "--- set ---" lines (see fuzz_config.cpp).
    small = ("experiment: fuzz\nseed: 0\ntask: {name: 2AF}\nmodel: {name: ctrnn, hidden_size: 20}\n"
             "init:\n  W_rec: {name: low_rank, rank: 3, gain: 1.25}\n"
             "train:\n  iterations: 10\n  batch_size: 4\n  optimizer: {name: sgd, lr: 0.003, momentum: 0.9}\n"
             "metrics:\n  every: 5\n  names: [loss, accuracy, dw_rec, {name: dw, param: W_rec, as: d}]\n")
    write("config", "small", small)
    write("config", "small_sweep_sets", small + "sweep:\n  init.W_rec.rank: [1, 2]\n  seed: [0, 1]\n"
          "--- set ---\ntrain.iterations=20\n--- set ---\nsweep.seed=[0,1,2]\n")
    write("config", "sets_only", "--- set ---\nmodel.hidden_size=30\n--- set ---\ninit.W_rec={name: gaussian, norm: 2}\n")
    write("config", "bad_set", small + "--- set ---\ntrain.iterations\n")
    for name in ("quick_2af", "paper_dms", "paper_cxt", "teacher_student", "io_aligned_low_rank"):
        with open(os.path.join(ROOT, "configs", name + ".yaml"), "rb") as f:
            write("config", name, f.read())
    write("config", "teacher_student_sets", open(os.path.join(ROOT, "configs", "teacher_student.yaml")).read() +
          "--- set ---\ntask.dim=10\n--- set ---\nmodel.hidden_size=8\n--- set ---\nsweep.init.W_1.rank=[1,2]\n")


if __name__ == "__main__":
    main()
