"""detect-secrets plugin: Ethereum private keys (and other 256-bit hex secrets) next to a word that
says what they are. A bare 32-byte hex string is just as often a hash (tx, block, code hash), so
only a key-like word on the same line makes it a finding."""

import re

from detect_secrets.plugins.base import RegexBasedDetector


class EthereumPrivateKeyDetector(RegexBasedDetector):
    """Scans for 32-byte hex values labelled as keys, secrets or mnemonics."""

    secret_type = "Ethereum private key"  # pragma: allowlist secret

    denylist = [
        re.compile(
            r"(?i)(?:priv(?:ate)?[_ -]?key|secret|signer[_ -]?key|deployer[_ -]?key|session[_ -]?key|"
            r"\bkey\b|_KEY\b|\bpk\b)[^\n]{0,80}?[\"'=: ](?:0x)?([0-9a-fA-F]{64})\b"
        ),
    ]
