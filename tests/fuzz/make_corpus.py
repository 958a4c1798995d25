#!/usr/bin/env python3
"""Writes fuzz_decode seed candidates to OUT_DIR: every codec vector input that is not a size-limit
case (those would only slow the fuzzer) and a few hand-made publish bodies. The committed corpus
is the covering subset `fuzz_decode -merge=1` keeps of them (see README.md).
usage: make_corpus.py OUT_DIR"""
import hashlib
import json
import pathlib
import sys

root = pathlib.Path(__file__).resolve().parent
vectors = root.parent / "vectors"
out = pathlib.Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)

inputs = []
for path in sorted(vectors.glob("codec-*.json")):
    for case in json.loads(path.read_text())["cases"]:
        if "input_repeat" in case:
            continue
        inputs.append(case["input"])

# fuzz_decode reads its first line as the URL id of a publish body.
inputs += [
    'job-1\n{"process_id":"job-1","state":"running","percent":12.5,"stage":"load","message":"m"}',
    'job-1\n{"percent":100,"state":"completed","result":{"rows":3},"data":{"k":[1,2]}}',
    'job-1\n{"process_id":"job-2","percent":1}',
    'job-1\n{"state":"failed","error":{"code":"E","message":"boom"},"lease_ms":60000}',
    'a\n{"percent":-1}',
    '\n{}',
]

for text in inputs:
    data = text.encode()
    (out / hashlib.sha1(data).hexdigest()[:16]).write_bytes(data)
print(f"{len(inputs)} inputs -> {out}")
