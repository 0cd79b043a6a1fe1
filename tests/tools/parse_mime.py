#!/usr/bin/python3
"""Parses one RFC 5322 message with Python's email package and prints what it saw as JSON.

Used by Kiln's C++ tests (src/kiln/mail/mime_writer_test.cpp) as an independent reader of the
messages Kiln composes. Usage: parse_mime.py FILE   (FILE holds the raw message bytes)

Output: {"error": "..."} when the parser raised (strict policy: any defect raises), otherwise
{"defects": [...], "headers": [[name, decoded value], ...], "addresses": {header: [[name, email]]},
 "parts": [{"content_type": ..., "charset": ..., "cte": ..., "content": ...}],
 "max_line": N, "bare_lf_or_cr": bool, "non_ascii": bool}
Text content has line ends normalised to "\\n".
"""
import email
import email.policy
import json
import sys


def main():
    with open(sys.argv[1], "rb") as f:
        raw = f.read()
    lines = raw.split(b"\r\n")
    result = {
        "max_line": max((len(l) for l in lines), default=0),
        "bare_lf_or_cr": any(b"\n" in l or b"\r" in l for l in lines),
        "non_ascii": any(b > 127 for b in raw),
        "ends_with_crlf": raw.endswith(b"\r\n"),
    }
    policy = email.policy.default.clone(raise_on_defect=True)
    try:
        msg = email.message_from_bytes(raw, policy=policy)
        defects = []
        headers = []
        addresses = {}
        for name, value in msg.items():
            headers.append([name, str(value)])
            defects += ["%s: %s" % (name, d) for d in getattr(value, "defects", ())]
            if name.lower() in ("from", "to", "cc", "reply-to"):
                addresses[name.lower()] = [[a.display_name, a.addr_spec] for a in value.addresses]
        parts = []
        for part in msg.walk():
            defects += ["part %s: %s" % (part.get_content_type(), d) for d in part.defects]
            if part.is_multipart():
                continue
            content = part.get_content()
            if isinstance(content, bytes):
                content = content.decode("utf-8")
            parts.append({
                "content_type": part.get_content_type(),
                "charset": part.get_content_charset(),
                "cte": part.get("Content-Transfer-Encoding", ""),
                "content": content.replace("\r\n", "\n"),
            })
        result.update({"defects": defects, "headers": headers, "addresses": addresses,
                       "parts": parts, "content_type": msg.get_content_type()})
    except Exception as e:  # noqa: BLE001 - any failure is reported to the test as text
        result["error"] = "%s: %s" % (type(e).__name__, e)
    json.dump(result, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
