#!/usr/bin/env python3
"""The forgery of issue #10, as a new user would try it: take a signed report, change its final
score in the sidecar and one byte of the PDF, and re-sign both with a new random Ed25519 key.
Writes FORGED.pdf and FORGED.pdf.sig.json. Used to show that `hallmark verify` before #10
accepted it (exit 0) and that `verify --trust` now refuses it.

    scripts/forge-report.py REPORT.pdf FORGED.pdf     (needs python3-cryptography)
"""
import hashlib
import json
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

src, out = sys.argv[1], sys.argv[2]
pdf = bytearray(open(src, "rb").read())
pdf[len(pdf) // 2] ^= 1
side = json.load(open(src + ".sig.json", encoding="utf-8"))
key = Ed25519PrivateKey.generate()
public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
fp = hashlib.sha256(public).hexdigest()[:16]
side["final_score"] = "99.8"
side["pdf_sha256"] = hashlib.sha256(pdf).hexdigest()
side["pdf_size"] = len(pdf)
side["signer_public_key"] = public.hex()
side["signer_fingerprint"] = " ".join(fp[i:i + 4] for i in range(0, 16, 4))
side["pdf_signature"] = key.sign(bytes(pdf)).hex()
side["signature"] = ""
# The statement is the sidecar's compact JSON, fields in their order, signature empty.
statement = json.dumps(side, ensure_ascii=False, separators=(",", ":")).encode()
side["signature"] = key.sign(statement).hex()
open(out, "wb").write(pdf)
open(out + ".sig.json", "w", encoding="utf-8").write(json.dumps(side, ensure_ascii=False, indent=2))
print(f"{out}: final score 99.8, signed by a new key {side['signer_fingerprint']}")
