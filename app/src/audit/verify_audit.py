#!/usr/bin/env python3
"""Checks an Easel decommission archive without Easel: Python 3.8+ and its
standard library only (Ed25519 is verified by the reference algorithm of
RFC 8032 below, so nothing needs installing).

    python3 audit/verify_audit.py easel-archive-<id>.zip

It checks, and says what it found:
  1. every file the manifest lists is in the archive, with its SHA-256 and
     size, and nothing else is;
  2. the audit trail (database/audit_events.jsonl) is one unbroken hash
     chain: each event's hash is SHA-256(previous hash || its canonical
     form), and the last hash is the manifest's audit_chain_head;
  3. every signed checkpoint (audit/checkpoints/) carries a valid Ed25519
     signature by the key in audit/public-key.txt, the checkpoints follow
     one another (1, 2, 3..., each naming the SHA-256 of the one before),
     and each still matches the event it names: same hash, same number of
     events up to it. A trail cut short or rewritten after a checkpoint
     fails here, even though its chain of hashes may link up again.

Compare the public key's fingerprint it prints with the one Easel's
operators gave you separately: the archive cannot vouch for its own key.
Exit status: 0 when everything checks out, 1 otherwise.
"""

import hashlib
import io
import json
import re
import sys
import zipfile
from datetime import datetime, timezone

GENESIS = bytes(32)
AUDIT_FILE = "database/audit_events.jsonl"
CHECKPOINTS = "audit/checkpoints/"
PUBLIC_KEY = "audit/public-key.txt"
MANIFEST = "manifest.json"

# --- Ed25519 verification (RFC 8032, section 5.1.7), integers only ---------
P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def _recover_x(y, sign):
    if y >= P:
        return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P != 0:
        return None
    if (x & 1) != sign:
        x = P - x
    return x


def _decompress(b):
    y = int.from_bytes(b, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % P)


def _add(p, q):
    a = (p[1] - p[0]) * (q[1] - q[0]) % P
    b = (p[1] + p[0]) * (q[1] + q[0]) % P
    c = 2 * p[3] * q[3] * D % P
    d = 2 * p[2] * q[2] % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _mul(s, p):
    q = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            q = _add(q, p)
        p = _add(p, p)
        s >>= 1
    return q


def _equal(p, q):
    return (p[0] * q[2] - q[0] * p[2]) % P == 0 and (p[1] * q[2] - q[1] * p[2]) % P == 0


_GY = 4 * pow(5, P - 2, P) % P
_GX = _recover_x(_GY, 0)
BASE = (_GX, _GY, 1, _GX * _GY % P)


def ed25519_verify(public, message, signature):
    if len(public) != 32 or len(signature) != 64:
        return False
    a = _decompress(public)
    r = _decompress(signature[:32])
    if a is None or r is None:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= L:
        return False
    h = int.from_bytes(hashlib.sha512(signature[:32] + public + message).digest(), "little") % L
    return _equal(_mul(s, BASE), _add(r, _mul(h, a)))


# --- The audit trail --------------------------------------------------------
_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$")


def _utc_micros(text):
    """An RFC 3339 time as Easel hashes it: UTC, six fraction digits, Z."""
    m = _TIME.match(text)
    if not m:
        raise ValueError("not an RFC 3339 time: %r" % text)
    whole, fraction, offset = m.groups()
    offset = "+00:00" if offset == "Z" else offset
    t = datetime.fromisoformat(whole + offset).astimezone(timezone.utc)
    micros = (fraction or "").ljust(9, "0")[:6]
    return t.strftime("%Y-%m-%dT%H:%M:%S") + "." + micros + "Z"


def canonical_form(row):
    """The exact text an event's hash covers: its fields as compact JSON
    with keys sorted at every depth (app/src/audit/chain.rs)."""
    fields = {
        "action": row["action"],
        "actor": row["actor"],
        "at": _utc_micros(row["at"]),
        "client_addr": row["client_addr"],
        "details": row["details"],
        "id": row["id"],
        "role": row["role"],
        "subject": row["subject"],
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def parse_statement(text):
    lines = text.split("\n")
    if len(lines) != 8 or lines[0] != "easel-audit-checkpoint v1" or lines[7] != "":
        raise ValueError("not a checkpoint statement")
    out = {}
    for line, name in zip(lines[1:7], ["seq", "last_id", "head", "rows", "at", "prev"]):
        if not line.startswith(name + " "):
            raise ValueError("no %s line where it belongs" % name)
        out[name] = line[len(name) + 1:]
    for name in ["seq", "last_id", "rows"]:
        out[name] = int(out[name])
    for name in ["head", "prev"]:
        out[name] = bytes.fromhex(out[name])
    return out


def _sha256_of(zf, name):
    """A file's SHA-256 and size, read a megabyte at a time (objects can be
    bigger than memory)."""
    h, size = hashlib.sha256(), 0
    with zf.open(name) as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def verify(path, say=print):
    findings = []
    zf = zipfile.ZipFile(path)
    names = set(zf.namelist())

    # 1. The files against the manifest.
    manifest = json.loads(zf.read(MANIFEST))
    listed = {f["path"]: f for f in manifest["files"]}
    for name, f in listed.items():
        if name not in names:
            findings.append("missing file: %s" % name)
            continue
        digest, size = _sha256_of(zf, name)
        if digest != f["sha256"] or size != f["bytes"]:
            findings.append("altered file: %s (its SHA-256 or size is not the manifest's)" % name)
    for name in sorted(names - set(listed) - {MANIFEST}):
        findings.append("unlisted file: %s" % name)
    say("files: %d listed, %d checked" % (len(listed), len(listed)))

    # 2. The hash chain, streamed; only the events a checkpoint names are kept.
    wanted = set()
    for name in names:
        if name.startswith(CHECKPOINTS) and name.endswith(".json"):
            try:
                wanted.add(parse_statement(json.loads(zf.read(name))["statement"])["last_id"])
            except (ValueError, KeyError, TypeError):
                pass  # judged in step 3
    at_id = {}
    prev = GENESIS
    broken = False
    head, last_event, n = "", 0, 0
    for line in io.TextIOWrapper(zf.open(AUDIT_FILE), encoding="utf-8"):
        if not line.strip():
            continue
        row = json.loads(line)
        n += 1
        if bytes.fromhex(row["prev_hash"]) != prev:
            findings.append("audit event %s: does not follow the event before it (removed, inserted or reordered)" % row["id"])
            broken = True
            break
        digest = hashlib.sha256(prev + canonical_form(row).encode("utf-8")).digest()
        if digest.hex() != row["hash"]:
            findings.append("audit event %s: its contents do not match its hash (altered)" % row["id"])
            broken = True
            break
        prev = digest
        head, last_event = row["hash"], row["id"]
        if row["id"] in wanted:
            at_id[row["id"]] = (digest, n)
    if not broken and head != manifest.get("audit_chain_head", ""):
        findings.append("the trail ends at %s, the manifest says %s" % (head or "(empty)", manifest.get("audit_chain_head")))
    if not broken:
        say("audit trail: %d events, one unbroken chain, head %s" % (n, head or "(empty)"))

    # 3. The checkpoints.
    if PUBLIC_KEY not in names:
        findings.append("no public key (%s): the checkpoints cannot be checked" % PUBLIC_KEY)
        return findings
    public = bytes.fromhex(zf.read(PUBLIC_KEY).decode("ascii").strip())
    say("public key: %s (fingerprint %s)" % (public.hex(), hashlib.sha256(public).hexdigest()[:16]))
    statements = {}
    for name in sorted(n for n in names if n.startswith(CHECKPOINTS) and n.endswith(".json")):
        signed = json.loads(zf.read(name))
        text = signed["statement"].encode("utf-8")
        if not ed25519_verify(public, text, bytes.fromhex(signed["signature"])):
            findings.append("forged checkpoint: %s is not signed by this key" % name)
            continue
        st = parse_statement(signed["statement"])
        st["digest"] = hashlib.sha256(text).digest()
        statements[st["seq"]] = st
    for seq in sorted(statements):
        st = statements[seq]
        expected_prev = GENESIS if seq == 1 else statements.get(seq - 1, {}).get("digest")
        if expected_prev is None:
            findings.append("missing checkpoint: %d (checkpoint %d names one before it)" % (seq - 1, seq))
        elif st["prev"] != expected_prev:
            findings.append("checkpoint %d does not name the checkpoint before it" % seq)
        if st["last_id"] == 0:
            continue
        if st["last_id"] > last_event:
            findings.append("truncated: checkpoint %d covers events up to %d, the trail ends at %d" % (seq, st["last_id"], last_event))
        elif at_id.get(st["last_id"]) != (st["head"], st["rows"]):
            findings.append("rewritten: event %d no longer matches what checkpoint %d signed" % (st["last_id"], seq))
    say("checkpoints: %d signed and checked" % len(statements))
    return findings


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().split("\n\n")[1].strip(), file=sys.stderr)
        return 2
    findings = verify(argv[1])
    for f in findings:
        print("FINDING  " + f)
    print("VERIFIED: the archive and its audit trail check out" if not findings else "NOT VERIFIED: %d finding(s)" % len(findings))
    return 0 if not findings else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
