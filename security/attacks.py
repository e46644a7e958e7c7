"""Nest's DAST attack suite: hostile requests against a running stack (`nest dev`), each asserting
the precise refusal (HTTP status and problem `code`), never a 5xx, answered quickly, and no state
change where the refusal could have left one.

Run by security/dast.py after schemathesis; also runnable alone against a stack started by hand:

    python security/attacks.py --api http://127.0.0.1:8080 --rpc http://127.0.0.1:8545 \
        --manifest .nest/deployments/31337.json

Signing uses anvil's public development keys (security/secrets/anvil-dev-keys.txt), which
`nest dev` funds on its local chain only.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import datetime
import hashlib
import hmac
import json
import socket
import sys
import time
import traceback
from typing import Callable
from urllib.parse import urlsplit

import httpx
from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data
from eth_keys import keys as eth_keys
from eth_utils import keccak, to_checksum_address

# anvil's development accounts (mnemonic "test test ... junk"): [7] and [8] sign here; [0] deploys,
# [9] pays for relayed transactions, the seed uses the first few.
ANVIL_KEYS = {
    7: "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
    8: "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
    6: "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
}
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
# What a refusal must take at most (the api answers these without I/O beyond the store).
QUICK_SECONDS = 3.0
LANGUAGES = {"en", "ko", "ja", "zh"}


class AttackFailed(Exception):
    pass


@dataclasses.dataclass
class Result:
    name: str
    ok: bool
    detail: str
    severity: str
    endpoint: str
    requests: int
    seconds: float


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


def word(value: int | bytes | str) -> bytes:
    if isinstance(value, str):
        value = bytes.fromhex(value.removeprefix("0x"))
    if isinstance(value, bytes):
        return value.rjust(32, b"\0")
    return value.to_bytes(32, "big")


class Stack:
    """The running stack: api and RPC endpoints, contract addresses, counters."""

    def __init__(self, api: str, rpc: str, manifest: dict):
        self.api = api.rstrip("/")
        self.rpc = rpc
        parts = urlsplit(self.api)
        self.host, self.port = parts.hostname, parts.port
        # `nest dev` serves the dApp origin http://localhost:<port> (SIWE domain, CORS origin).
        self.origin = f"http://localhost:{self.port}"
        self.domain = f"localhost:{self.port}"
        self.chain_id = int(manifest["chainId"])
        contracts = manifest["contracts"]
        self.address = {name: to_checksum_address(c["address"]) for name, c in contracts.items()}
        self.requests = 0
        self.clients: dict[str, httpx.Client] = {}

    def client(self, source: str = "127.0.0.1") -> httpx.Client:
        """An HTTP client whose connections come from `source` (a loopback address): the api
        limits requests per client IP, so the rate-limit attack uses its own."""
        if source not in self.clients:
            transport = httpx.HTTPTransport(local_address=source, retries=0)
            self.clients[source] = httpx.Client(
                base_url=self.api, transport=transport, timeout=15,
                event_hooks={"request": [self._count]})
        return self.clients[source]

    def _count(self, _request):
        self.requests += 1

    def close(self):
        for c in self.clients.values():
            c.close()

    def rpc_call(self, method: str, params: list):
        with httpx.Client(timeout=15) as c:
            reply = c.post(self.rpc, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).json()
        if "error" in reply:
            raise AttackFailed(f"RPC {method}: {reply['error']}")
        return reply["result"]

    def forwarder_nonce(self, account: str) -> int:
        data = "0x" + (selector("nonces(address)") + word(account)).hex()
        return int(self.rpc_call("eth_call", [{"to": self.address["NestForwarder"], "data": data}, "latest"]), 16)

    def chain_time(self) -> int:
        return int(self.rpc_call("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)

    def raw(self, request: bytes, source: str = "127.0.0.1") -> tuple[int, dict[str, list[str]], bytes]:
        """Sends `request` as raw bytes (nothing normalised or validated on the way) and reads the
        answer until the server closes: (status, headers by lower-case name, body)."""
        self.requests += 1
        with socket.create_connection((self.host, self.port), timeout=15,
                                      source_address=(source, 0)) as s:
            s.sendall(request)
            chunks = []
            while True:
                try:
                    chunk = s.recv(65536)
                except (ConnectionResetError, socket.timeout):
                    break
                if not chunk:
                    break
                chunks.append(chunk)
        data = b"".join(chunks)
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        if not lines or not lines[0].startswith(b"HTTP/1.1 "):
            raise AttackFailed(f"no HTTP answer to a raw request: {data[:120]!r}")
        status = int(lines[0].split()[1])
        headers: dict[str, list[str]] = {}
        for line in lines[1:]:
            name, _, value = line.decode("latin-1").partition(":")
            headers.setdefault(name.strip().lower(), []).append(value.strip())
        if "chunked" in ",".join(headers.get("transfer-encoding", [])):
            body = dechunk(body)
        return status, headers, body

    def raw_post_streamed(self, path: str, body: bytes, chunked: bool):
        """POSTs a large body piece by piece, as a browser does, and stops sending as soon as the
        server answers (it may refuse after the headers and close): (status, headers, body)."""
        import select
        self.requests += 1
        head = (f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Type: application/json\r\n"
                + ("Transfer-Encoding: chunked\r\n" if chunked else f"Content-Length: {len(body)}\r\n")
                + "Connection: close\r\n\r\n").encode()
        data = b""
        with socket.create_connection((self.host, self.port), timeout=15) as s:
            s.sendall(head)
            try:
                for i in range(0, len(body), 16384):
                    if select.select([s], [], [], 0)[0]:
                        break
                    piece = body[i:i + 16384]
                    s.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
                else:
                    if chunked:
                        s.sendall(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
            try:
                while chunk := s.recv(65536):
                    data += chunk
            except (ConnectionResetError, socket.timeout):
                pass
        head_bytes, _, payload = data.partition(b"\r\n\r\n")
        lines = head_bytes.split(b"\r\n")
        if not lines or not lines[0].startswith(b"HTTP/1.1 "):
            raise AttackFailed(f"no HTTP answer to a {len(body)}-byte POST {path}: {data[:120]!r}")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if "chunked" in headers.get("transfer-encoding", ""):
            payload = dechunk(payload)
        return int(lines[0].split()[1]), headers, payload

    def raw_get(self, target: str, extra_headers: bytes = b"", source: str = "127.0.0.1"):
        return self.raw(b"GET " + target.encode("latin-1") + b" HTTP/1.1\r\nHost: " +
                        f"{self.host}:{self.port}".encode() + b"\r\n" + extra_headers +
                        b"Connection: close\r\n\r\n", source)


def dechunk(body: bytes) -> bytes:
    out = b""
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2:]
    return out


# ---------------------------------------------------------------------------------------------
# Assertions

def problem_code(status: int, headers, body: bytes) -> str | None:
    content_type = headers.get("content-type", "")
    if isinstance(content_type, list):
        content_type = content_type[0] if content_type else ""
    if not content_type.startswith("application/problem+json"):
        return None
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    return doc.get("code") if isinstance(doc, dict) and doc.get("status") == status else None


def expect(what: str, response: httpx.Response, status: int, codes: str | set[str],
           seconds: float | None = None) -> None:
    """The precise refusal: `status`, an RFC 9457 problem document with one of `codes`."""
    codes = {codes} if isinstance(codes, str) else codes
    elapsed = response.elapsed.total_seconds() if seconds is None else seconds
    got = problem_code(response.status_code, response.headers, response.content)
    if response.status_code >= 500:
        raise AttackFailed(f"{what}: server error {response.status_code} {response.text[:200]}")
    if response.status_code != status or got not in codes:
        shown = got or f"not a problem document ({response.headers.get('content-type')}: {response.text[:120]!r})"
        raise AttackFailed(f"{what}: expected {status} {'/'.join(sorted(codes))}, got {response.status_code} {shown}")
    if elapsed > QUICK_SECONDS:
        raise AttackFailed(f"{what}: refused only after {elapsed:.1f} s")


def expect_ok(what: str, response: httpx.Response, status: int = 200) -> None:
    if response.status_code != status:
        raise AttackFailed(f"{what}: expected {status}, got {response.status_code} {response.text[:200]}")


# ---------------------------------------------------------------------------------------------
# Sign-In with Ethereum

def siwe_message(domain: str, address: str, uri: str, chain_id: int, nonce: str,
                 issued: datetime.datetime | None = None, expires: datetime.datetime | None = None) -> str:
    issued = issued or datetime.datetime.now(datetime.timezone.utc)
    fmt = lambda t: t.strftime("%Y-%m-%dT%H:%M:%S.000Z")  # noqa: E731
    text = (f"{domain} wants you to sign in with your Ethereum account:\n{address}\n\n"
            f"Sign in to Nest (DAST).\n\nURI: {uri}\nVersion: 1\nChain ID: {chain_id}\n"
            f"Nonce: {nonce}\nIssued At: {fmt(issued)}")
    if expires is not None:
        text += f"\nExpiration Time: {fmt(expires)}"
    return text


def sign_text(key: str, text: str) -> str:
    return "0x" + bytes(Account.sign_message(encode_defunct(text=text), key).signature).hex()


class Attacks:
    def __init__(self, stack: Stack):
        self.s = stack
        self.http = stack.client()
        self.alice = Account.from_key(ANVIL_KEYS[7])
        self.mallory = Account.from_key(ANVIL_KEYS[8])
        self.relay_nonce: int | None = None

    # ---- helpers
    def nonce(self) -> str:
        r = self.http.get("/v1/auth/nonce")
        expect_ok("GET /v1/auth/nonce", r)
        return r.json()["nonce"]

    def message(self, nonce: str, **overrides) -> str:
        fields = {"domain": self.s.domain, "address": self.alice.address, "uri": self.s.origin + "/",
                  "chain_id": self.s.chain_id, "nonce": nonce}
        fields.update(overrides)
        return siwe_message(**fields)

    def verify(self, text: str, key: str | None = None) -> httpx.Response:
        return self.http.post("/v1/auth/verify", json={"message": text, "signature": sign_text(key or self.alice.key, text)})

    def sign_in(self) -> str:
        r = self.verify(self.message(self.nonce()))
        expect_ok("sign-in", r)
        return r.json()["token"]

    def me(self, token: str) -> httpx.Response:
        return self.http.get("/v1/me", headers={"Authorization": f"Bearer {token}"})

    # ---- SIWE
    def siwe_replay(self):
        """The same signed SIWE message twice: the second finds its nonce used."""
        text = self.message(self.nonce())
        first = self.verify(text)
        expect_ok("first sign-in", first)
        replay = self.verify(text)
        expect("replayed message", replay, 401, "auth.nonce_unknown")
        expect_ok("the first session still works", self.me(first.json()["token"]))
        # A nonce never issued by the server is refused the same way.
        expect("invented nonce", self.verify(self.message("inventedByTheAttackerNeverIssued")), 401, "auth.nonce_unknown")
        return "replay refused with 401 auth.nonce_unknown; invented nonce refused; first session intact"

    def siwe_domain_confusion(self):
        """A message for another site (domain or URI) is refused and leaves the nonce unused."""
        nonce = self.nonce()
        cases = [
            ("other domain", {"domain": "evil.example"}, "auth.wrong_domain"),
            ("same host, other port", {"domain": f"localhost:{self.s.port + 1 if self.s.port < 65535 else 1}"}, "auth.wrong_domain"),
            ("lookalike domain", {"domain": f"localhost.evil.example:{self.s.port}"}, "auth.wrong_domain"),
            ("other URI", {"uri": "https://evil.example/login"}, "auth.wrong_uri"),
            ("URI on another site naming ours", {"uri": f"https://evil.example/?next={self.s.origin}/"}, "auth.wrong_uri"),
            ("URI userinfo trick", {"uri": f"http://localhost:{self.s.port}@evil.example/"}, "auth.wrong_uri"),
        ]
        for what, overrides, code in cases:
            expect(what, self.verify(self.message(nonce, **overrides)), 401, code)
        # A lookalike origin (ours as a prefix of another host) is not even a valid SIWE URI.
        expect("URI prefix trick", self.verify(self.message(nonce, uri=f"{self.s.origin}.evil.example/")), 400, "auth.bad_message")
        # No state change: the refused messages did not consume the nonce.
        expect_ok("sign-in with the same nonce afterwards", self.verify(self.message(nonce)))
        return f"{len(cases)} confused messages refused (auth.wrong_domain / auth.wrong_uri); nonce not consumed"

    def siwe_chain_confusion(self):
        """A message signed for another chain id is refused."""
        nonce = self.nonce()
        for chain in (1, 11155111, self.s.chain_id + 1):
            expect(f"chain id {chain}", self.verify(self.message(nonce, chain_id=chain)), 401, "auth.wrong_chain")
        expect_ok("sign-in with the right chain afterwards", self.verify(self.message(nonce)))
        return "chain ids 1, 11155111 and 31338 refused with 401 auth.wrong_chain"

    def siwe_forged_signature(self):
        """Alice's message signed by Mallory, and a stale message, are refused."""
        nonce = self.nonce()
        expect("signed by another key", self.verify(self.message(nonce), key=self.mallory.key), 401, "auth.bad_signature")
        garbage = self.http.post("/v1/auth/verify", json={"message": self.message(nonce), "signature": "0x" + "00" * 65})
        expect("zero signature", garbage, 401, "auth.bad_signature")
        old = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=2)
        expect("issued two hours ago", self.verify(self.message(nonce, issued=old)), 401, "auth.message_expired")
        past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=1)
        expect("expiration time passed", self.verify(self.message(nonce, expires=past)), 401, "auth.message_expired")
        expect_ok("nonce still usable", self.verify(self.message(nonce)))
        return "foreign signer and zero signature: auth.bad_signature; stale messages: auth.message_expired"

    # ---- session tokens
    def token_tampering(self):
        """A valid token with a changed payload or signature byte is refused."""
        token = self.sign_in()
        header, payload, signature = token.split(".")
        claims = json.loads(b64url_decode(payload))
        cases = []
        other = dict(claims, sub=self.mallory.address.lower())
        cases.append(("payload sub changed to another wallet", f"{header}.{b64url(json.dumps(other, separators=(',', ':')).encode())}.{signature}"))
        later = dict(claims, exp=claims["exp"] + 86400 * 365)
        cases.append(("payload exp extended", f"{header}.{b64url(json.dumps(later, separators=(',', ':')).encode())}.{signature}"))
        raw = bytearray(b64url_decode(payload))
        raw[len(raw) // 2] ^= 0x01
        cases.append(("one payload byte flipped", f"{header}.{b64url(bytes(raw))}.{signature}"))
        sig = bytearray(b64url_decode(signature))
        sig[10] ^= 0x80
        cases.append(("one signature byte flipped", f"{header}.{payload}.{b64url(bytes(sig))}"))
        cases.append(("signature removed", f"{header}.{payload}."))
        cases.append(("extra part", f"{token}.{signature}"))
        for what, forged in cases:
            expect(what, self.me(forged), 401, "auth.invalid_token")
        expect_ok("the untouched token still works", self.me(token))
        return f"{len(cases)} tampered tokens refused with 401 auth.invalid_token"

    def token_alg_none(self):
        """`alg: none` (and case variants) without a signature is refused."""
        token = self.sign_in()
        header = json.loads(b64url_decode(token.split(".")[0]))
        payload = token.split(".")[1]
        for alg in ("none", "None", "NONE", ""):
            forged_header = b64url(json.dumps(dict(header, alg=alg)).encode())
            expect(f"alg {alg!r}, empty signature", self.me(f"{forged_header}.{payload}."), 401, "auth.invalid_token")
            expect(f"alg {alg!r}, original signature", self.me(f"{forged_header}.{payload}.{token.split('.')[2]}"), 401, "auth.invalid_token")
        return "alg none/None/NONE/'' refused with 401 auth.invalid_token"

    def token_alg_confusion(self):
        """HS256 keyed with the issuer's public key (recovered from a token), ES256K by an
        attacker's key under the issuer's kid, and an attacker-issued token, are refused."""
        token = self.sign_in()
        header_b64, payload_b64, sig_b64 = token.split(".")
        header = json.loads(b64url_decode(header_b64))
        sig = b64url_decode(sig_b64)
        digest = hashlib.sha256(f"{header_b64}.{payload_b64}".encode()).digest()
        public = eth_keys.Signature(vrs=(sig[64], int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:64], "big"))) \
            .recover_public_key_from_msg_hash(digest)
        if public.to_checksum_address().lower() != header["kid"].lower():
            raise AttackFailed("could not recover the issuer's public key from a token")
        xy = public.to_bytes()
        spki = bytes.fromhex("3056301006072a8648ce3d020106052b8104000a034200") + b"\x04" + xy
        pem = ("-----BEGIN PUBLIC KEY-----\n" + base64.b64encode(spki).decode() + "\n-----END PUBLIC KEY-----\n").encode()
        secrets = {"uncompressed": b"\x04" + xy, "raw x||y": xy, "compressed": public.to_compressed_bytes(),
                   "hex": ("0x04" + xy.hex()).encode(), "PEM": pem, "address": header["kid"].encode()}
        claims = json.loads(b64url_decode(payload_b64))
        mine = dict(claims, sub=self.mallory.address.lower())
        count = 0
        for alg, hash_fn in (("HS256", hashlib.sha256), ("HS512", hashlib.sha512)):
            for what, secret in secrets.items():
                for payload in (payload_b64, b64url(json.dumps(mine).encode())):
                    h = b64url(json.dumps(dict(header, alg=alg)).encode())
                    mac = hmac.new(secret, f"{h}.{payload}".encode(), hash_fn).digest()
                    expect(f"{alg} keyed with the {what} public key", self.me(f"{h}.{payload}.{b64url(mac)}"), 401, "auth.invalid_token")
                    count += 1
        # ES256K-R signed by Mallory: under the issuer's kid (tampered), and under her own (untrusted).
        attacker = eth_keys.PrivateKey(bytes.fromhex(self.mallory.key.hex().removeprefix("0x")))
        for kid in (header["kid"], self.mallory.address):
            h = b64url(json.dumps(dict(header, kid=kid)).encode())
            p = b64url(json.dumps(mine).encode())
            s = attacker.sign_msg_hash(hashlib.sha256(f"{h}.{p}".encode()).digest())
            raw = s.r.to_bytes(32, "big") + s.s.to_bytes(32, "big") + bytes([s.v])
            expect(f"ES256K-R by an attacker key, kid {kid}", self.me(f"{h}.{p}.{b64url(raw)}"), 401, "auth.invalid_token")
            count += 1
        return f"{count} alg-confusion and foreign-key tokens refused with 401 auth.invalid_token"

    def token_malleability_and_revocation(self):
        """The high-s twin of a valid signature is refused; a logged-out token is revoked."""
        token = self.sign_in()
        h, p, s = token.split(".")
        sig = b64url_decode(s)
        twin_s = SECP256K1_N - int.from_bytes(sig[32:64], "big")
        twin = sig[:32] + twin_s.to_bytes(32, "big") + bytes([sig[64] ^ 1])
        expect("high-s twin signature", self.me(f"{h}.{p}.{b64url(twin)}"), 401, "auth.invalid_token")
        expect("Bearer with no token", self.http.get("/v1/me", headers={"Authorization": "Bearer not-a-token"}), 401, "auth.invalid_token")
        expect("no Authorization", self.http.get("/v1/me"), 401, "auth.missing_token")
        expect_ok("logout", self.http.post("/v1/auth/logout", headers={"Authorization": f"Bearer {token}"}), 204)
        expect("token after logout", self.me(token), 401, "auth.session_revoked")
        expect("refresh after logout", self.http.post("/v1/auth/refresh", headers={"Authorization": f"Bearer {token}"}), 401, "auth.session_revoked")
        return "high-s twin: auth.invalid_token; after logout: auth.session_revoked (also for refresh)"

    # ---- relay
    def forward(self, signer, *, to: str | None = None, data: bytes | None = None, nonce: int | None = None,
                deadline: int | None = None, gas: int = 150_000, chain_id: int | None = None,
                from_: str | None = None, value: int = 0, body_chain: int | None = None) -> dict:
        """A signed ERC-2771 forward request of `from_` (default: the signer's address)."""
        operator = "0x" + "11" * 20
        if data is None:
            data = selector("setApprovalForAll(address,bool)") + word(operator) + word(1)
        request = {
            "from": from_ or signer.address, "to": to or self.s.address["NestNFT"], "value": value, "gas": gas,
            "nonce": self.s.forwarder_nonce(from_ or signer.address) if nonce is None else nonce,
            "deadline": deadline if deadline is not None else self.s.chain_time() + 3600, "data": "0x" + data.hex(),
        }
        typed = {
            "types": {
                "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                                 {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}],
                "ForwardRequest": [{"name": "from", "type": "address"}, {"name": "to", "type": "address"},
                                   {"name": "value", "type": "uint256"}, {"name": "gas", "type": "uint256"},
                                   {"name": "nonce", "type": "uint256"}, {"name": "deadline", "type": "uint48"},
                                   {"name": "data", "type": "bytes"}],
            },
            "primaryType": "ForwardRequest",
            "domain": {"name": "NestForwarder", "version": "1", "chainId": chain_id or self.s.chain_id,
                       "verifyingContract": self.s.address["NestForwarder"]},
            "message": dict(request, data=data),
        }
        signed = Account.sign_message(encode_typed_data(full_message=typed), signer.key)
        body = dict(request, signature="0x" + bytes(signed.signature).hex())
        if body_chain is not None:
            body["chainId"] = body_chain
        return body

    def relay(self, body, **kw) -> httpx.Response:
        return self.http.post("/v1/relay", json=body, **kw)

    def _relay_baseline(self) -> int:
        if self.relay_nonce is None:
            self.relay_nonce = self.s.forwarder_nonce(self.alice.address)
        return self.relay_nonce

    def _relay_unchanged(self):
        now = self.s.forwarder_nonce(self.alice.address)
        if now != self.relay_nonce:
            raise AttackFailed(f"the forwarder nonce of the signer moved from {self.relay_nonce} to {now}")

    def relay_forged_signer(self):
        """A forward request whose signature is by a key other than `from`."""
        n = self._relay_baseline()
        expect("signed by Mallory for Alice", self.relay(self.forward(self.mallory, from_=self.alice.address, nonce=n)), 400, "relay.bad_signature")
        body = self.forward(self.alice, nonce=n)
        body["to"] = self.s.address["NestMarketplace"]  # a field changed after signing
        expect("field changed after signing", self.relay(body), 400, "relay.bad_signature")
        body = self.forward(self.alice, nonce=n)
        body["signature"] = "0x" + "00" * 65
        expect("zero signature", self.relay(body), 400, {"relay.bad_signature"})
        # The same forgery for the two other kinds.
        delegation = {"kind": "delegate", "from": self.alice.address, "delegatee": self.mallory.address,
                      "nonce": 0, "expiry": self.s.chain_time() + 3600,
                      "signature": self.forward(self.mallory, nonce=n)["signature"]}
        expect("delegation signed by another key", self.relay(delegation), 400, "relay.bad_signature")
        self._relay_unchanged()
        return "signer != from, altered field, zero signature, foreign delegation: 400 relay.bad_signature"

    def relay_wrong_chain(self):
        """A forward request signed under another chain id's EIP-712 domain, or declaring one."""
        n = self._relay_baseline()
        expect("signed for chain 1", self.relay(self.forward(self.alice, nonce=n, chain_id=1)), 400, "relay.wrong_chain")
        expect("signed for chain 11155111", self.relay(self.forward(self.alice, nonce=n, chain_id=11155111)), 400, "relay.wrong_chain")
        expect("declares chain 1 in the body", self.relay(self.forward(self.alice, nonce=n, body_chain=1)), 400, "relay.wrong_chain")
        # An unknown chain id cannot be told from a bad signature.
        expect("signed for chain 999999", self.relay(self.forward(self.alice, nonce=n, chain_id=999999)), 400, "relay.bad_signature")
        self._relay_unchanged()
        return "chains 1 and 11155111 (signed or declared): 400 relay.wrong_chain; unknown chain: relay.bad_signature"

    def relay_expired(self):
        """A correctly signed request whose deadline is past or inside the relayer's margin."""
        n = self._relay_baseline()
        now = self.s.chain_time()
        expect("deadline in the past", self.relay(self.forward(self.alice, nonce=n, deadline=now - 60)), 422, "relay.expired")
        expect("deadline inside the margin", self.relay(self.forward(self.alice, nonce=n, deadline=now + 5)), 422, "relay.expired")
        expect("deadline 0", self.relay(self.forward(self.alice, nonce=n, deadline=0)), 422, "relay.expired")
        self._relay_unchanged()
        return "past, too close and zero deadlines: 422 relay.expired"

    def relay_disallowed_target(self):
        """Correctly signed requests to contracts or functions the relayer does not sponsor."""
        n = self._relay_baseline()
        a = self.s.address
        cases = [
            ("NEST token transfer", a["NestToken"], selector("transfer(address,uint256)") + word(self.mallory.address) + word(10**18)),
            ("marketplace pause()", a["NestMarketplace"], selector("pause()")),
            ("NFT grantRole", a["NestNFT"], selector("grantRole(bytes32,address)") + word(0) + word(self.alice.address)),
            ("NFT mint", a["NestNFT"], selector("mint(address,string)") + word(self.alice.address)),
            ("the forwarder itself", a["NestForwarder"], selector("nonces(address)") + word(self.alice.address)),
            ("the timelock", a["NestTimelock"], selector("updateDelay(uint256)") + word(0)),
            ("no selector", a["NestMarketplace"], b"\x01\x02"),
        ]
        for what, to, data in cases:
            expect(what, self.relay(self.forward(self.alice, nonce=n, to=to, data=data)), 403, "relay.target_not_allowed")
        expect("value sent", self.relay(self.forward(self.alice, nonce=n, value=1)), 403, "relay.value_not_zero")
        expect("gas above the cap", self.relay(self.forward(self.alice, nonce=n, gas=10**9)), 403, "relay.gas_cap")
        big = selector("setApprovalForAll(address,bool)") + b"\0" * 8000
        expect("call data above the cap", self.relay(self.forward(self.alice, nonce=n, data=big)), 403, "relay.calldata_too_large")
        self._relay_unchanged()
        return f"{len(cases)} disallowed targets/selectors: 403 relay.target_not_allowed; value, gas and call data caps refused"

    def relay_replay(self):
        """After the forgeries (none stored: the same nonce is still free), a valid request is
        accepted once; its exact replay, and a re-signed request with the same nonce, are refused."""
        n = self._relay_baseline()
        self._relay_unchanged()
        body = self.forward(self.alice, nonce=n)
        first = self.relay(body)
        expect_ok("a valid request with the nonce every forgery used (nothing was stored for them)", first, 202)
        expect("exact replay", self.relay(body), 409, "relay.duplicate")
        expect("same nonce, new deadline", self.relay(self.forward(self.alice, nonce=n, deadline=self.s.chain_time() + 7200)), 409, "relay.nonce_used")
        expect("a nonce ahead", self.relay(self.forward(self.alice, nonce=n + 5)), 409, "relay.nonce")
        job = self.http.get(first.json()["statusUrl"])
        expect_ok("the accepted job", job)
        return "accepted once (202); exact replay: 409 relay.duplicate; re-signed with the used nonce: 409 relay.nonce_used; skipped nonce: 409 relay.nonce"

    # ---- CORS
    def cors_foreign_origin(self):
        """Preflights and requests from foreign origins get no Access-Control-Allow-Origin."""
        foreign = ["https://evil.example", "null", f"{self.s.origin}.evil.example", f"http://evil.localhost:{self.s.port}",
                   f"https://localhost:{self.s.port}", f"http://localhost:{self.s.port + 1 if self.s.port < 65535 else 1}"]
        for origin in foreign:
            pre = self.http.request("OPTIONS", "/v1/auth/verify", headers={
                "Origin": origin, "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type"})
            if pre.status_code >= 500:
                raise AttackFailed(f"preflight from {origin}: {pre.status_code}")
            if "access-control-allow-origin" in pre.headers or "access-control-allow-credentials" in pre.headers:
                raise AttackFailed(f"preflight from {origin} allowed: {dict(pre.headers)}")
            for method, path in (("GET", "/v1/listings"), ("POST", "/v1/auth/logout")):
                r = self.http.request(method, path, headers={"Origin": origin})
                if r.status_code >= 500 or "access-control-allow-origin" in r.headers:
                    raise AttackFailed(f"{method} {path} from {origin}: {r.status_code}, ACAO {r.headers.get('access-control-allow-origin')}")
        # Control: the dApp's own origin is allowed, echoed exactly.
        own = self.http.request("OPTIONS", "/v1/auth/verify", headers={
            "Origin": self.s.origin, "Access-Control-Request-Method": "POST"})
        if own.headers.get("access-control-allow-origin") != self.s.origin:
            raise AttackFailed(f"the dApp origin is not allowed (control): {dict(own.headers)}")
        return f"{len(foreign)} foreign origins: no Access-Control-Allow-Origin on preflight, GET or POST; own origin echoed"

    # ---- header injection
    def header_injection(self):
        """CR/LF in header values the api echoes or uses (X-Request-Id, Accept-Language) never
        split the response or smuggle a header; at worst the request is refused (400)."""
        cases = [
            ("X-Request-Id with CRLF", b"X-Request-Id: dast\r\nSet-Cookie: pwned=1\r\n"),
            ("X-Request-Id with bare LF", b"X-Request-Id: dast\nSet-Cookie: pwned=1\r\n"),
            ("X-Request-Id with bare CR", b"X-Request-Id: dast\rSet-Cookie: pwned=1\r\n"),
            ("X-Request-Id folded line", b"X-Request-Id: dast\r\n Set-Cookie: pwned=1\r\n"),
            ("X-Request-Id percent-encoded CRLF", b"X-Request-Id: dast%0d%0aSet-Cookie:%20pwned=1\r\n"),
            ("X-Request-Id with NUL", b"X-Request-Id: dast\x00Set-Cookie: pwned=1\r\n"),
            ("X-Request-Id of 6 KB", b"X-Request-Id: " + b"A" * 6000 + b"\r\n"),
            ("Accept-Language with CRLF", b"Accept-Language: ko\r\nSet-Cookie: pwned=1\r\n"),
            ("Accept-Language with bare CR", b"Accept-Language: ko\rSet-Cookie: pwned=1\r\n"),
            ("Accept-Language non-ASCII", "Accept-Language: ko\u0085Set-Cookie: pwned=1\r\n".encode("utf-8")),
            ("Accept-Language percent-encoded", b"Accept-Language: ko%0d%0aSet-Cookie:%20pwned=1\r\n"),
        ]
        outcomes = []
        for what, header in cases:
            for target in ("/v1/listings/abc", "/v1/ping"):
                status, headers, body = self.s.raw_get(target, header)
                if status >= 500:
                    raise AttackFailed(f"{what} on {target}: server error {status}")
                if "set-cookie" in headers:
                    raise AttackFailed(f"{what} on {target}: the response carries Set-Cookie {headers['set-cookie']}")
                for value in headers.get("x-request-id", []):
                    if "set-cookie" in value.lower() and "%" not in value:
                        raise AttackFailed(f"{what} on {target}: X-Request-Id echoed {value!r}")
                for value in headers.get("content-language", []):
                    if value not in LANGUAGES:
                        raise AttackFailed(f"{what} on {target}: Content-Language {value!r}")
                if status != 400 and target == "/v1/listings/abc":
                    code = problem_code(status, {k: v[0] for k, v in headers.items()}, body)
                    if (status, code) != (400, "request.invalid_parameter") and status != 400:
                        # Served: the bad id must still be the precise refusal.
                        if code != "request.invalid_parameter":
                            raise AttackFailed(f"{what}: expected the 400 problem for the bad id, got {status} {code}")
                    if b"\r" in body or b"\n" in body.replace(b"\\n", b""):
                        raise AttackFailed(f"{what}: raw CR/LF in the problem body")
                outcomes.append(status)
        refused = sum(1 for s in outcomes if s == 400)
        return f"{len(cases)} injections x 2 routes: no header smuggled, no 5xx ({refused} refused by the HTTP parser with 400, the rest served with the value confined)"

    # ---- rate limit
    def ratelimit_spoofing(self):
        """Over the per-IP limit, spoofed client-IP headers do not reset it (no trusted proxy is
        configured, so the api must key on the connection's address)."""
        source, other = "127.0.0.2", "127.0.0.3"
        try:
            client = self.s.client(source)
            client.get("/v1/ping")
        except httpx.TransportError:
            raise AttackFailed("cannot connect from 127.0.0.2 (loopback aliases are needed to test per-IP limits)")
        spoofs = [{"X-Forwarded-For": "203.0.113.7"}, {"X-Forwarded-For": "203.0.113.8, 127.0.0.1"},
                  {"X-Real-IP": "203.0.113.9"}, {"Forwarded": "for=203.0.113.10"},
                  {"True-Client-IP": "203.0.113.11"}, {"CF-Connecting-IP": "203.0.113.12"},
                  {"X-Client-IP": "203.0.113.13"}, {"X-Forwarded-For": "127.0.0.1"}]
        for attempt in range(2):
            # Fixed one-minute windows: start early in one so the burst and the spoofs share it.
            into = time.time() % 60
            if into > 45:
                time.sleep(60 - into + 0.2)
            window = int(time.time() // 60)
            limited = None
            for i in range(3000):
                r = client.get("/v1/ping")
                if r.status_code == 429:
                    limited = r
                    break
                if r.status_code != 200:
                    raise AttackFailed(f"/v1/ping answered {r.status_code} during the burst")
            if limited is None:
                raise AttackFailed("3000 requests from one IP within a minute were never limited")
            expect("over the per-IP limit", limited, 429, "rate_limited")
            if not limited.headers.get("retry-after"):
                raise AttackFailed("429 without Retry-After")
            escaped = [h for h in spoofs if client.get("/v1/ping", headers=h).status_code != 429]
            if escaped and int(time.time() // 60) != window and attempt == 0:
                continue  # the window turned during the test: once more
            if escaped:
                raise AttackFailed(f"spoofed headers reset the limit: {escaped}")
            control = self.s.client(other).get("/v1/ping")
            expect_ok("another client IP is not limited (control)", control)
            return f"limited after {i + 1} requests (429 rate_limited, Retry-After); {len(spoofs)} spoofed client-IP headers stayed limited"
        raise AttackFailed("unreachable")

    # ---- path traversal
    def path_traversal(self):
        """Dot segments and their encodings on the static routes reach no file."""
        targets = ["/docs/../../etc/passwd", "/docs/..%2f..%2fetc%2fpasswd", "/docs/%2e%2e/%2e%2e/etc/passwd",
                   "/%2e%2e/%2e%2e/etc/passwd", "/docs/..%252f..%252fetc%252fpasswd", "/docs/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
                   "/docs/....//....//etc/passwd", "/docs;/../../Cargo.toml", "/openapi.json/../../Cargo.toml",
                   "/docs/..%5c..%5cCargo.toml", "//etc/passwd", "/docs/%00../../etc/passwd",
                   "/v1/relay/..%2f..%2fetc%2fpasswd", "/v1/nfts/..%2f..%2f/etc"]
        statuses = []
        for target in targets:
            status, headers, body = self.s.raw_get(target)
            if status >= 500:
                raise AttackFailed(f"{target}: server error {status}")
            if b"root:" in body or b"[workspace]" in body or b"[package]" in body:
                raise AttackFailed(f"{target}: file contents served")
            code = problem_code(status, {k: v[0] for k, v in headers.items()}, body)
            allowed = {(404, "route.not_found"), (404, "relay.not_found"), (400, "request.invalid_address"),
                       (400, "request.invalid_parameter")}
            if (status, code) not in allowed and not (status == 400 and not body):
                raise AttackFailed(f"{target}: expected 404 route.not_found (or the route's own 4xx problem), got {status} {code}")
            statuses.append(status)
        # Control: the docs page is where it should be.
        expect_ok("GET /docs", self.http.get("/docs"))
        return f"{len(targets)} traversal paths: {statuses.count(404)} x 404 route.not_found/relay.not_found, {statuses.count(400)} x 400; no file served"

    # ---- huge and nested bodies
    def oversize_body(self):
        """Bodies over the 64 KiB limit, with and without Content-Length, are refused quickly as
        413 problem documents (api and relay intake)."""
        big = json.dumps({"message": "A" * 1_000_000, "signature": "0x"}).encode()

        routes = [("/v1/auth/verify", {"request.body_too_large"}), ("/v1/relay", {"request.body_too_large"})]
        failures = []
        for path, codes in routes:
            for how, chunked in (("Content-Length", False), ("chunked", True)):
                start = time.monotonic()
                status, headers, body = self.s.raw_post_streamed(path, big, chunked)
                elapsed = time.monotonic() - start
                code = problem_code(status, headers, body)
                if status >= 500 or status != 413 or code not in codes or elapsed > QUICK_SECONDS:
                    failures.append(f"{path}, 1 MB body ({how}): expected 413 {'/'.join(sorted(codes))} within "
                                    f"{QUICK_SECONDS:.0f} s, got {status} {code or headers.get('content-type')} after {elapsed:.1f} s")
        if failures:
            raise AttackFailed("; ".join(failures))
        return "1 MB bodies (Content-Length and chunked) on /v1/auth/verify and /v1/relay: 413 problem documents"

    def nested_json(self):
        """Deeply nested JSON within the size limit is refused quickly (no stack exhaustion)."""
        depth = 30_000
        bodies = {"arrays": b"[" * depth + b"]" * depth, "objects": b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
                  "unclosed": b"[" * 60_000}
        cases = [("/v1/auth/verify", "request.malformed_json"), ("/v1/relay", "relay.malformed")]
        for path, code in cases:
            for what, body in bodies.items():
                start = time.monotonic()
                r = self.http.post(path, content=body, headers={"Content-Type": "application/json"})
                # The api reads a body field by field: nested objects stop at the first unknown one.
                codes = code if path == "/v1/relay" else (
                    "request.unknown_field" if what == "objects" else {code, "request.invalid_field"})
                expect(f"{path}: nested {what} ({len(body)} bytes)", r, 400, codes, seconds=time.monotonic() - start)
        # Many keys (wide, not deep) within the limit.
        wide = json.dumps({f"k{i}": i for i in range(3000)}).encode()
        r = self.http.post("/v1/auth/verify", content=wide, headers={"Content-Type": "application/json"})
        expect("3000 unknown keys", r, 400, "request.unknown_field")
        return f"nesting depth {depth} (arrays), 10000 (objects), 60000 unclosed: 400 refusals on the api and the relay intake"


# Attacks in order (the relay ones share one signer and nonce: the replay check comes last).
ATTACKS: list[tuple[str, str, str, Callable]] = [
    ("siwe-replay", "high", "/v1/auth/verify", Attacks.siwe_replay),
    ("siwe-domain-confusion", "high", "/v1/auth/verify", Attacks.siwe_domain_confusion),
    ("siwe-chain-confusion", "high", "/v1/auth/verify", Attacks.siwe_chain_confusion),
    ("siwe-forged-signature", "high", "/v1/auth/verify", Attacks.siwe_forged_signature),
    ("token-tampering", "high", "/v1/me", Attacks.token_tampering),
    ("token-alg-none", "high", "/v1/me", Attacks.token_alg_none),
    ("token-alg-confusion", "high", "/v1/me", Attacks.token_alg_confusion),
    ("token-malleability-revocation", "high", "/v1/me", Attacks.token_malleability_and_revocation),
    ("relay-signer-not-from", "high", "/v1/relay", Attacks.relay_forged_signer),
    ("relay-wrong-chain", "high", "/v1/relay", Attacks.relay_wrong_chain),
    ("relay-expired-deadline", "high", "/v1/relay", Attacks.relay_expired),
    ("relay-disallowed-target", "high", "/v1/relay", Attacks.relay_disallowed_target),
    ("relay-replay", "high", "/v1/relay", Attacks.relay_replay),
    ("cors-foreign-origin", "high", "/v1/auth/verify", Attacks.cors_foreign_origin),
    ("header-injection", "medium", "/v1/listings/{id}", Attacks.header_injection),
    ("ratelimit-ip-spoofing", "high", "/v1/ping", Attacks.ratelimit_spoofing),
    ("path-traversal", "high", "/docs", Attacks.path_traversal),
    ("oversize-body", "medium", "/v1/auth/verify", Attacks.oversize_body),
    ("nested-json", "high", "/v1/auth/verify", Attacks.nested_json),
]


def run_all(stack: Stack, only: set[str] | None = None, log=print) -> list[Result]:
    attacks = Attacks(stack)
    results = []
    for name, severity, endpoint, fn in ATTACKS:
        if only and name not in only:
            continue
        before, start = stack.requests, time.monotonic()
        try:
            detail, ok = fn(attacks), True
        except AttackFailed as e:
            detail, ok = str(e), False
        except Exception as e:  # an attack that cannot run is a failure, never a pass
            detail, ok = f"{type(e).__name__}: {e} ({traceback.format_exc(limit=3).splitlines()[-2].strip()})", False
        result = Result(name, ok, detail, severity, endpoint, stack.requests - before, time.monotonic() - start)
        log(f"dast: attack {name}: {'pass' if ok else 'FAIL'} ({result.requests} requests, {result.seconds:.1f}s) {detail}")
        results.append(result)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api", required=True)
    parser.add_argument("--rpc", required=True)
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--only", help="comma-separated attack names")
    args = parser.parse_args()
    stack = Stack(args.api, args.rpc, json.loads(open(args.manifest).read()))
    try:
        results = run_all(stack, set(args.only.split(",")) if args.only else None)
    finally:
        stack.close()
    print(f"{sum(r.ok for r in results)} passed, {sum(not r.ok for r in results)} failed, {stack.requests} requests")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
