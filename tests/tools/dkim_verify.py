#!/usr/bin/python3
"""Verifies every DKIM-Signature of one message with Debian's python3-dkim (dkimpy).

Used by Kiln's C++ tests (src/kiln/mail/dkim_test.cpp) as an independent verifier.
Usage: dkim_verify.py MESSAGE_FILE RECORDS_FILE
RECORDS_FILE is JSON {"sel._domainkey.example.com": "v=DKIM1; k=rsa; p=...", ...}: the DNS answers
(no network is used). Prints JSON {"signatures": N, "results": [true|false, ...],
"errors": [...]} or {"error": "..."}.
"""
import json
import sys

import dkim


def main():
    with open(sys.argv[1], "rb") as f:
        message = f.read()
    with open(sys.argv[2]) as f:
        records = json.load(f)

    def dnsfunc(name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode()
        value = records.get(name.rstrip("."))
        return value.encode() if value is not None else None

    out = {"results": [], "errors": []}
    try:
        d = dkim.DKIM(message, minkey=1024)
        count = sum(1 for name, _ in d.headers if name.lower() == b"dkim-signature")
        out["signatures"] = count
        for idx in range(count):
            try:
                ok = dkim.DKIM(message, minkey=1024).verify(idx=idx, dnsfunc=dnsfunc)
                out["results"].append(bool(ok))
                out["errors"].append("")
            except dkim.DKIMException as e:
                out["results"].append(False)
                out["errors"].append("%s: %s" % (type(e).__name__, e))
    except Exception as e:  # noqa: BLE001 - reported to the test as text
        out["error"] = "%s: %s" % (type(e).__name__, e)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
