#!/usr/bin/env python3
"""Re-check the worked example of doc/spec/encoding.md §9, independently of the C++ code.

Reads the hex bytes from the tables and lines of encoding.md §9 (and the registration
example of notary.md §2), rebuilds the transaction, body, validator set, header,
precommit message and commit, and checks every length, offset, hash and signature
stated there. Only the Python 3 standard library is used: hashlib for SHA-256, and a
BIP-340 verifier written from the algorithm of BIP-340 (checked below against some of
its published test vectors).

Usage: python3 doc/spec/tools/check_worked_example.py [path/to/doc/spec]
Prints "OK <check>" or "FAIL <check>: <why>" per check; exits 1 if any check fails.
"""
import hashlib
import os
import re
import sys

# --------------------------------------------------------------------------- BIP-340

FIELD_P = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F
ORDER_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
GEN = (0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
       0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8)


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def tagged_hash(tag: str, data: bytes) -> bytes:
    t = sha256(tag.encode("ascii"))
    return sha256(t + t + data)


def ec_add(a, b):
    """Affine point addition on secp256k1; None is the point at infinity."""
    if a is None:
        return b
    if b is None:
        return a
    (x1, y1), (x2, y2) = a, b
    if x1 == x2:
        if (y1 + y2) % FIELD_P == 0:
            return None
        slope = 3 * x1 * x1 * pow(2 * y1, -1, FIELD_P)
    else:
        slope = (y2 - y1) * pow(x2 - x1, -1, FIELD_P)
    slope %= FIELD_P
    x3 = (slope * slope - x1 - x2) % FIELD_P
    return x3, (slope * (x1 - x3) - y1) % FIELD_P


def ec_mul(k: int, point):
    result = None
    while k:
        if k & 1:
            result = ec_add(result, point)
        point = ec_add(point, point)
        k >>= 1
    return result


def lift_x(x: int):
    """The curve point with x coordinate x and an even y, or None."""
    if x >= FIELD_P:
        return None
    rhs = (pow(x, 3, FIELD_P) + 7) % FIELD_P
    y = pow(rhs, (FIELD_P + 1) // 4, FIELD_P)
    if y * y % FIELD_P != rhs:
        return None
    return x, (y if y % 2 == 0 else FIELD_P - y)


def bip340_verify(pubkey: bytes, msg: bytes, sig: bytes) -> bool:
    if len(pubkey) != 32 or len(msg) != 32 or len(sig) != 64:
        return False
    pub = lift_x(int.from_bytes(pubkey, "big"))
    r = int.from_bytes(sig[:32], "big")
    s = int.from_bytes(sig[32:], "big")
    if pub is None or r >= FIELD_P or s >= ORDER_N:
        return False
    e = int.from_bytes(tagged_hash("BIP0340/challenge", sig[:32] + pubkey + msg), "big") % ORDER_N
    point = ec_add(ec_mul(s, GEN), ec_mul(ORDER_N - e, pub))
    return point is not None and point[1] % 2 == 0 and point[0] == r


# Some BIP-340 test vectors (bip-0340/test-vectors.csv): index, pubkey, msg, sig, expected.
BIP340_VECTORS = [
    (0, "F9308A019258C31049344F85F89D5229B531C845836F99B08601F113BCE036F9",
     "0000000000000000000000000000000000000000000000000000000000000000",
     "E907831F80848D1069A5371B402410364BDF1C5F8307B0084C55F1CE2DCA8215"
     "25F66A4A85EA8B71E482A74F382D2CE5EBEEE8FDB2172F477DF4900D310536C0", True),
    (1, "DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659",
     "243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89",
     "6896BD60EEAE296DB48A229FF71DFE071BDE413E6D43F917DC8DCF8C78DE3341"
     "8906D11AC976ABCCB20B091292BFF4EA897EFCB639EA871CFA95F6DE339E4B0A", True),
    (6, "DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659",
     "243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89",
     "FFF97BD5755EEEA420453A14355235D382F6472F8568A18B2F057A1460297556"
     "3CC27944640AC607CD107AE10923D9EF7A73C643E166BE5EBEAFA34B1AC553E2", False),
    (7, "DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659",
     "243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89",
     "1FA62E331EDBC21C394792D2AB1100A7B432B013DF3F6FF4F99FCB33E0E1515F"
     "28890B3EDB6E7189B630448B515CE4F8622A954CFE545735AAEA5134FCCDB2BD", False),
]

# --------------------------------------------------------------------------- reading the spec

HEX_TOKEN = re.compile(r"(?:(\d+)\s*×\s*)?`([0-9a-fA-F]+)`")


def hex_tokens(text: str) -> bytes:
    """Concatenate the backquoted hex strings of text; `N × \`xx\`` repeats xx N times.
    Backquoted strings that are not even-length hex (such as `fides-doc`) are ignored."""
    out = b""
    for count, token in HEX_TOKEN.findall(text):
        if len(token) % 2:
            continue
        out += bytes.fromhex(token) * (int(count) if count else 1)
    return out


def one_hash(text: str, label: str) -> bytes:
    m = re.search(re.escape(label) + r".{0,80}?`([0-9a-f]{64})`", text, re.S)
    if not m:
        raise ValueError(f"no 32-byte hex after {label!r}")
    return bytes.fromhex(m.group(1))


def subsections(section: str) -> dict:
    parts = re.split(r"^### ", section, flags=re.M)[1:]
    return {p.split("\n", 1)[0].split(" (")[0].strip(): p for p in parts}


def heading_size(text: str) -> int:
    return int(re.match(r"[^\n(]*\((\d+) bytes\)", text).group(1))


def parse_table(text: str):
    """Rows of an `| offset | size | field | bytes (hex) |` table as (offset, size, field, bytes, cell)."""
    rows = []
    for line in text.splitlines():
        m = re.match(r"\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*([^|]+?)\s*\|(.*)\|\s*$", line)
        if m:
            rows.append((int(m.group(1)), int(m.group(2)), m.group(3), hex_tokens(m.group(4)), m.group(4)))
    return rows


# --------------------------------------------------------------------------- checks

results = []


def check(name: str, fn):
    try:
        fn()
        results.append(True)
        print(f"OK   {name}")
    except Exception as exc:  # noqa: BLE001 - report every failure and go on
        results.append(False)
        print(f"FAIL {name}: {exc}")


def expect(cond: bool, why: str):
    if not cond:
        raise AssertionError(why)


def u32(b: bytes) -> int:
    return int.from_bytes(b, "big")


def main() -> int:
    spec_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    encoding = open(os.path.join(spec_dir, "encoding.md"), encoding="utf-8").read()
    notary = open(os.path.join(spec_dir, "notary.md"), encoding="utf-8").read()
    sec9 = encoding[encoding.index("## 9. Worked example"):encoding.index("\n## 10.")]
    sub = subsections(sec9)
    f = {}  # field name -> bytes, per structure

    def table(name: str) -> bytes:
        text = sub[name]
        rows = parse_table(text)
        expect(rows, f"{name}: no table rows")
        data = b""
        for offset, size, field, value, _ in rows:
            expect(offset == len(data), f"{name}.{field}: offset {offset}, expected {len(data)}")
            expect(size == len(value), f"{name}.{field}: size {size} but {len(value)} bytes given")
            data += value
        expect(len(data) == heading_size(text), f"{name}: {len(data)} bytes, heading says {heading_size(text)}")
        f[name] = {field: value for _, _, field, value, _ in rows}
        # decimal annotations such as `0000002c` (44) must match the bytes
        for _, _, field, value, cell in rows:
            m = re.search(r"`\s*\((\d+)\)", cell)
            if m:
                expect(int(m.group(1)) == int.from_bytes(value, "big"), f"{name}.{field}: ({m.group(1)}) != hex")
        return data

    def bip340_vectors():
        for idx, pk, msg, sig, want in BIP340_VECTORS:
            got = bip340_verify(bytes.fromhex(pk), bytes.fromhex(msg), bytes.fromhex(sig))
            expect(got == want, f"vector {idx}: verify gave {got}")

    check("BIP-340 verifier against BIP-340 test vectors 0, 1, 6, 7", bip340_vectors)

    def tag_table():
        for tag in ("fides/tx/v1", "fides/vote/v1"):
            m = re.search(r"\| `" + re.escape(tag) + r"` \| `([0-9a-f]{64})`", encoding)
            expect(m is not None, f"§1 lists no SHA256({tag})")
            expect(sha256(tag.encode()).hex() == m.group(1), f"SHA256({tag}) differs from §1")

    check("§1 tag hashes SHA256(\"fides/tx/v1\"), SHA256(\"fides/vote/v1\")", tag_table)

    tx = table("Transaction")
    t = f["Transaction"]
    chain_id = t["chain_id"]

    def tx_fields():
        expect(t["version"] == b"\x01", "version is not 01")
        expect(u32(t["chain_id length"]) == len(chain_id) and chain_id == b"fides-doc", "chain_id")
        expect(u32(t["payload length"]) == len(t["payload"]), "payload length")
        expect(len(tx) == 123 + len(chain_id) + len(t["payload"]), "length != 123 + len(chain_id) + len(payload)")
        p = t["payload"]
        expect(p[0] == 1 and u32(p[33:37]) == len(p) - 37 and p[37:] == b"doc one", "notary payload / label")
        expect(lift_x(int.from_bytes(t["signer"], "big")) is not None, "signer is not an x-only key")

    check("transaction layout (176 bytes, offsets, lengths, notary payload)", tx_fields)

    signing_bytes = tx[:-64]
    digest = tagged_hash("fides/tx/v1", signing_bytes)
    tx_text = sub["Transaction"]

    def signing_digest():
        m = re.search(r"signing bytes: offsets 0–(\d+) \((\d+) bytes\)", tx_text)
        expect(m and int(m.group(1)) == len(signing_bytes) - 1 and int(m.group(2)) == len(signing_bytes),
               "signing bytes range")
        expect(digest == one_hash(tx_text, "signing digest:"), f"computed {digest.hex()}")

    check("transaction signing digest = taggedHash(\"fides/tx/v1\", signing bytes)", signing_digest)
    check("transaction signature verifies (BIP-340, signer, signing digest)",
          lambda: expect(bip340_verify(t["signer"], digest, t["signature"]), "signature does not verify"))
    check("transaction hash = SHA256(transaction)",
          lambda: expect(sha256(tx) == one_hash(tx_text, "transaction hash:"), f"computed {sha256(tx).hex()}"))

    body_text = sub["Body"]

    def body():
        prefix = hex_tokens(body_text.split("followed by")[0])
        m = re.search(r"followed by the (\d+) transaction bytes", body_text)
        expect(m and int(m.group(1)) == len(tx), "body does not name the transaction's length")
        full = prefix + tx
        expect(len(full) == heading_size(body_text), f"{len(full)} bytes, heading says {heading_size(body_text)}")
        expect(full[:4] == (1).to_bytes(4, "big") and u32(full[4:8]) == len(tx), "u32 count || var tx")

    check("body (184 bytes) = u32 1 || var transaction", body)

    tx_root = sha256(b"\x00" + tx)
    check("tx_root = SHA256(0x00 || transaction)",
          lambda: expect(tx_root == one_hash(body_text, "`tx_root`"), f"computed {tx_root.hex()}"))

    vs_text = sub["Validator set"]
    vset = hex_tokens(vs_text.split("Hash:")[0])
    vs_hash = sha256(vset)

    def validator_set():
        expect(len(vset) == heading_size(vs_text) == 4 + 40 * u32(vset[:4]), "length != 4 + 40 * count")
        expect(vs_hash == one_hash(vs_text, "Hash:"), f"computed {vs_hash.hex()}")

    check("validator set (44 bytes) hash = SHA256(encoding)", validator_set)

    header = table("Header")
    h = f["Header"]
    hdr_text = sub["Header"]
    block_hash = sha256(header)

    def header_fields():
        expect(len(header) == 217 + len(h["chain_id"]) == 226, "length != 217 + len(chain_id)")
        expect(h["version"] == b"\x01" and h["chain_id"] == chain_id, "version / chain_id")
        expect(int.from_bytes(h["height"], "big") == 1 and h["prev_hash"] == bytes(32), "height 1, prev_hash zero")
        expect(h["tx_root"] == tx_root and u32(h["tx_count"]) == 1, "tx_root / tx_count differ from the body")
        expect(h["validator_set_hash"] == vs_hash, "validator_set_hash differs from the validator set")
        expect(h["next_validator_set_hash"] == vs_hash, "next_validator_set_hash differs (no governance change)")
        expect(h["proposer"] == vset[4:36], "proposer is not the validator")

    check("header layout (226 bytes) and fields agree with body and validator set", header_fields)
    check("block hash = SHA256(header)",
          lambda: expect(block_hash == one_hash(hdr_text, "Block hash:"), f"computed {block_hash.hex()}"))

    def state_root():
        # Registration (notary.md §2) written by the transaction, and its state-tree leaf.
        doc_hash = t["payload"][1:33]
        label = t["payload"][37:]
        value = (b"\x01" + h["height"] + (0).to_bytes(4, "big") + sha256(tx) + t["signer"] + h["time_ms"]
                 + len(label).to_bytes(4, "big") + label)
        m = re.search(r"Example \((\d+) bytes\), the value written by the transaction of.*?\n(.*?)\n\n", notary, re.S)
        expect(m is not None, "notary.md has no registration example")
        expect(hex_tokens(m.group(2)) == value and int(m.group(1)) == len(value),
               "notary.md registration example differs from the one built from §9")
        key = b"notary/doc/" + doc_hash
        leaf = sha256(b"\x00" + sha256(key) + sha256(value))
        expect(leaf == h["state_root"], f"leaf hash {leaf.hex()}")

    check("state_root = leaf hash of the registration entry (state-tree.md §4, notary.md §2)", state_root)

    pc_text = sub["Precommit digest"]
    message = (b"\x02" + len(chain_id).to_bytes(4, "big") + chain_id + h["height"] + (0).to_bytes(4, "big")
               + block_hash)
    vote_digest = tagged_hash("fides/vote/v1", message)

    def precommit():
        m = re.search(r"Message \((\d+) bytes\):(.*?)Digest:", pc_text, re.S)
        expect(m is not None, "no message line")
        expect(hex_tokens(m.group(2)) == message and int(m.group(1)) == len(message), "message bytes differ")
        expect(vote_digest == one_hash(pc_text, "Digest:"), f"computed {vote_digest.hex()}")

    check("precommit digest = taggedHash(\"fides/vote/v1\", 02 || chain_id || height || round || block hash)",
          precommit)

    commit = table("Commit")
    c = f["Commit"]

    def commit_fields():
        expect(len(commit) == 49 + 96 * u32(c["count"]), "length != 49 + 96 * count")
        expect(c["version"] == b"\x01" and c["height"] == h["height"] and u32(c["round"]) == 0, "version/height/round")
        expect(c["block_hash"] == block_hash, "block_hash differs from SHA256(header)")
        expect(u32(c["count"]) == 1 and c["validator"] == vset[4:36], "signer is not the set's validator")
        members = {vset[i:i + 32]: int.from_bytes(vset[i + 32:i + 40], "big") for i in range(4, len(vset), 40)}
        signers = [commit[i:i + 32] for i in range(49, len(commit), 96)]
        signed = sum(members[v] for v in signers)
        expect(3 * signed > 2 * sum(members.values()), "signers hold no more than 2/3 of the power")

    check("commit layout (145 bytes) and fields agree with header and validator set", commit_fields)
    check("commit signature verifies (BIP-340, validator, precommit digest)",
          lambda: expect(bip340_verify(c["validator"], vote_digest, c["signature"]), "signature does not verify"))

    failed = results.count(False)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
