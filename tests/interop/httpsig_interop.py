#!/usr/bin/env python3
"""RFC 9421 interop (issue #11): hallmark's request signatures against an implementation nobody
here wrote, PyPI `http-message-signatures`, both directions.

  verify   — stdin: {"method", "url", "headers", "body_hex", "public_key_hex"} of a request
             hallmark signed; exits 0 when the library verifies it (and its Content-Digest).
  request URL ROOT_PEM DEVICE_KEY CHAIN_PEM
           — signs requests with the library (the device's Ed25519 key) and sends them to a
             running `hallmark serve`; prints {"device": status, "pull": [status, code]}.
"""
import json, secrets, sys

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from http_message_signatures import HTTPMessageSigner, HTTPMessageVerifier, HTTPSignatureKeyResolver, algorithms

COMPONENTS = ("@method", "@authority", "@path", "content-digest")


class Keys(HTTPSignatureKeyResolver):
    def __init__(self, public=None, private=None):
        self.public, self.private = public, private

    def resolve_public_key(self, key_id):
        return self.public

    def resolve_private_key(self, key_id):
        return self.private


def verify():
    req = json.load(sys.stdin)
    body = bytes.fromhex(req["body_hex"])
    prepared = requests.Request(req["method"], req["url"], headers=req["headers"], data=body).prepare()
    public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(req["public_key_hex"]))
    verifier = HTTPMessageVerifier(signature_algorithm=algorithms.ED25519, key_resolver=Keys(public=public))
    results = verifier.verify(prepared, require_components=COMPONENTS, body=body)
    assert results, "no signature verified"
    print("verified", results[0].parameters)


def request(url, root_pem, device_key, chain_pem):
    seed = open(device_key, "rb").read()
    key = Ed25519PrivateKey.from_private_bytes(seed)
    keyid = key.public_key().public_bytes_raw().hex()
    signer = HTTPMessageSigner(signature_algorithm=algorithms.ED25519, key_resolver=Keys(private=key))
    chain = open(chain_pem).read()
    blocks = ["-----BEGIN CERTIFICATE-----" + b for b in chain.split("-----BEGIN CERTIFICATE-----")[1:]]

    def send(method, path, body=b""):
        prepared = requests.Request(method, url + path, data=body).prepare()
        # The library writes Content-Digest itself from the body.
        signer.sign(prepared, key_id=keyid, nonce=secrets.token_hex(16), covered_component_ids=COMPONENTS, body=body)
        return requests.Session().send(prepared, verify=root_pem, timeout=30)

    device = send("PUT", "/v1/device", json.dumps({"certificates": blocks}).encode())
    pull = send("GET", "/v1/pull")
    print(json.dumps({"device": [device.status_code, device.json().get("name") or device.json().get("error")],
                      "pull": [pull.status_code, pull.json().get("error", "")]}, ensure_ascii=False))


if __name__ == "__main__":
    if sys.argv[1] == "verify":
        verify()
    else:
        request(*sys.argv[2:6])
