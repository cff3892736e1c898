#!/usr/bin/env python3
"""Writes the golden Zarr v3 store the Swift tests read: small arrays made by zarr-python
with each codec setup the reader must accept, and expected.json with their values.

    python3 make_golden.py [OUTPUT_DIR]     # default: this script's folder

Needs zarr-python 3.1 and numpy (pip install zarr==3.1.5 numpy).
"""
import json
import os
import warnings
import shutil
import sys

import numpy as np
import zarr
from zarr.codecs import (BloscCodec, BytesCodec, Crc32cCodec, GzipCodec, ShardingCodec,
                         TransposeCodec, ZstdCodec)

warnings.simplefilter("ignore")  # zarr-python warns about the nested sharding below
out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
store_path = os.path.join(out_dir, "golden.zarr")
shutil.rmtree(store_path, ignore_errors=True)
root = zarr.open_group(store_path, mode="w", attributes={"made_by": "make_golden.py"})

expected = {}


def values(dtype, shape, hole=True):
    """Deterministic values; with `hole`, frame 1 is all fill so its chunks are not written."""
    n = int(np.prod(shape))
    i = np.arange(n)
    if np.dtype(dtype) == np.bool_:
        data = (i % 3 == 0)
    elif np.dtype(dtype).kind == "f":
        data = (i * 0.25 - 3.0).astype(dtype)
    elif np.dtype(dtype).kind == "u":
        data = ((i * 37) % 200 + 1).astype(dtype)
    else:
        data = ((i * 37) % 200 - 100).astype(dtype)
    return data.reshape(shape)


def add(name, dtype, shape=(3, 4, 5), chunks=(1, 2, 5), fill_value=None, hole=True, data=None, **kwargs):
    array = root.create_array(name, shape=shape, dtype=dtype, chunks=chunks, fill_value=fill_value, **kwargs)
    if data is None:
        data = values(dtype, shape)
        if hole:
            data[1] = array.fill_value
    array[...] = data
    flat = data.reshape(-1).tolist()
    expected[name] = {"dtype": str(array.dtype), "shape": list(shape), "values": flat}


add("default_uint16", "uint16")
add("uint8_no_endian", "uint8")
add("int8", "int8")
add("bool", "bool")
add("int64", "int64")
add("uint64", "uint64")
add("gzip_int32", "int32", compressors=[GzipCodec(level=5)])
add("blosc_noshuffle_float32", "float32", compressors=[BloscCodec(cname="lz4", clevel=5, shuffle="noshuffle")])
add("blosc_shuffle_uint16", "uint16", compressors=[BloscCodec(cname="zstd", clevel=3, shuffle="shuffle")])
add("blosc_bitshuffle_uint8", "uint8", compressors=[BloscCodec(cname="blosclz", clevel=9, shuffle="bitshuffle")])
add("crc32c_int16", "int16", compressors=[ZstdCodec(level=1, checksum=True), Crc32cCodec()])
add("transpose_float64", "float64", filters=[TransposeCodec(order=(2, 0, 1))])
add("bigendian_uint32", "uint32", serializer=BytesCodec(endian="big"), compressors=[GzipCodec(level=1)])
# Frame 1 is fill: its inner chunks are absent from the shard index.
add("sharding_int16", "int16", shape=(4, 4, 6), chunks=(1, 2, 3), shards=(4, 4, 6))
# A sharding codec given as the serializer: big-endian gzip inner chunks, index first.
add("sharding_start_float32", "float32", shape=(4, 4, 6), chunks=(2, 4, 6),
    serializer=ShardingCodec(chunk_shape=(1, 2, 3), codecs=[BytesCodec(endian="big"), GzipCodec(level=2)],
                             index_location="start"))
# Both: shards of shards, with zstd over the outer shard (zarr-python warns; readers must cope).
add("nested_sharding_float64", "float64", shape=(4, 4, 6), chunks=(1, 2, 3), shards=(2, 4, 6),
    serializer=ShardingCodec(chunk_shape=(1, 2, 3), codecs=[BytesCodec(), GzipCodec(level=2)]))
add("nan_fill_float32", "float32", fill_value=float("nan"))
add("missing_all_uint16", "uint16", data=np.zeros((3, 4, 5), dtype="uint16"))
add("dot_separator_int32", "int32", chunk_key_encoding={"name": "default", "separator": "."})
add("v2_keys_uint16", "uint16", chunk_key_encoding={"name": "v2", "separator": "."})
nan_data = values("float64", (3, 4, 5))
nan_data[0, 0, :] = np.nan
nan_data[2] = np.nan
add("nan_values_float64", "float64", fill_value=float("nan"), data=nan_data)
add("fill_seven_uint16", "uint16", fill_value=7)

with open(os.path.join(out_dir, "expected.json"), "w") as f:
    json.dump(expected, f)
    f.write("\n")
