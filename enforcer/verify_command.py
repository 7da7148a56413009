#!/usr/bin/env python3
"""Verify Tourniquet's signed commands (and analysts' control requests) as an enforcer would.

Python 3 standard library only, written from RFC 8785 (JSON Canonicalization Scheme) and the
contract, independently of the Java code that signs: if both agree, any enforcer that follows the
same two documents agrees too.

  signature = "hmac-sha256:" + hex(HMAC-SHA256(key, JCS(record without "signature")))

Usage:
  verify_command.py --key-env TOURNIQUET_SIGNING_KEY [--now RFC3339] < commands.ndjson
      one line per record: "ok <action_id>" or "BAD <line number>: <why>" (bad signature, or
      past its signed expires_at); exit 1 if any is bad
  verify_command.py --canonical < values.ndjson
      prints each line's canonical form (for the test vectors)

The key is read from an environment variable, never from the command line (process lists).
"""
import argparse
import datetime
import decimal
import hashlib
import hmac
import json
import math
import os
import sys

PREFIX = "hmac-sha256:"


def number(x):
    """An IEEE double as ECMAScript's Number.prototype.toString prints it (RFC 8785 section 3.2.2.3)."""
    if isinstance(x, bool):
        raise ValueError("not a number")
    x = float(x)
    if math.isnan(x) or math.isinf(x):
        raise ValueError("NaN and Infinity have no JSON form")
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    # repr gives the shortest digits that round-trip, which is what ECMAScript prints as well.
    t = decimal.Decimal(repr(abs(x))).as_tuple()
    all_digits = "".join(map(str, t.digits))
    digits = all_digits.rstrip("0")
    exponent = t.exponent + len(all_digits) - len(digits)
    k = len(digits)
    n = exponent + k  # the decimal point sits after n digits
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    e = n - 1
    mantissa = digits[0] + ("." + digits[1:] if k > 1 else "")
    return sign + mantissa + "e" + ("+" if e > 0 else "-") + str(abs(e))


def canonical(value):
    """RFC 8785: keys sorted by UTF-16 code units, no whitespace, minimal string escapes."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        # Python escapes exactly what JCS does: " \\ \b \f \n \r \t, other controls as \u00xx.
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (int, float)):
        return number(value)
    if isinstance(value, list):
        return "[" + ",".join(canonical(v) for v in value) + "]"
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + canonical(value[k]) for k in keys) + "}"
    raise ValueError("not JSON: %r" % (value,))


def signature(record, key):
    unsigned = {k: v for k, v in record.items() if k != "signature"}
    mac = hmac.new(key, canonical(unsigned).encode("utf-8"), hashlib.sha256)
    return PREFIX + mac.hexdigest()


def instant(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def verify(record, key, now):
    claimed = record.get("signature")
    if not isinstance(claimed, str):
        return "no signature"
    if not hmac.compare_digest(claimed.encode("ascii", "replace"), signature(record, key).encode("ascii")):
        return "signature does not match"
    # Only a signed expires_at counts (it is checked after the signature), and a command past it is
    # refused: replayed or redelivered late, it must not act (a freeze after the analyst's release).
    if "expires_at" in record and instant(record["expires_at"]) < now:
        return "expired at " + record["expires_at"]
    return None


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--key-env", help="environment variable holding the HMAC key")
    mode.add_argument("--canonical", action="store_true", help="print each input line's canonical form")
    p.add_argument("--now", help="check expires_at against this RFC 3339 time instead of the clock")
    args = p.parse_args()
    now = instant(args.now) if args.now else datetime.datetime.now(datetime.timezone.utc)
    bad = 0
    key = None
    if args.key_env:
        if args.key_env not in os.environ:
            print("error: %s is not set" % args.key_env, file=sys.stderr)
            return 2
        key = os.environ[args.key_env].encode("utf-8")
    for i, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        value = json.loads(line)
        if args.canonical:
            print(canonical(value))
            continue
        why = verify(value, key, now) if isinstance(value, dict) else "not an object"
        if why:
            bad += 1
            print("BAD %d: %s" % (i, why))
        else:
            print("ok %s" % value.get("action_id", value.get("request_id", "")))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
