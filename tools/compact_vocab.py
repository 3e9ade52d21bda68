#!/usr/bin/env python3
"""Turns a tiktoken vocabulary (`<base64 token> <rank>` per line, as published by
OpenAI with tiktoken, MIT) into llmdeck's compact form: for every rank in order,
one length byte and the token's bytes. 1.4 MB instead of 3.6 MB, and it loads
into a few megabytes of memory instead of tens.

    tools/compact_vocab.py o200k_base.tiktoken assets/tokenizers/o200k_base.bin
"""
import base64
import sys

src, dst = sys.argv[1], sys.argv[2]
tokens = []
for line in open(src, encoding="ascii"):
    b64, rank = line.split()
    assert int(rank) == len(tokens), "ranks must be contiguous from 0"
    token = base64.b64decode(b64)
    assert 0 < len(token) < 256
    tokens.append(token)
with open(dst, "wb") as out:
    for t in tokens:
        out.write(bytes([len(t)]) + t)
print(f"{len(tokens)} tokens, longest {max(map(len, tokens))} bytes -> {dst}")
