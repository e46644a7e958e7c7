//! Which key signs, as a typed value: deserialised from a configuration file or read from
//! `NEST_SIGNER*` environment variables, validated before any key is touched.
//!
//! Secrets (private keys, PINs, keystore passwords) are [`SecretString`]s: their `Debug` output is
//! redacted, they are zeroed on drop, and no error message ever includes them.

use crate::error::{KeyError, Result};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::path::PathBuf;

/// Where Debian's SoftHSM2 installs its PKCS#11 module.
pub const DEFAULT_PKCS11_MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";

/// Google Cloud KMS's public endpoint.
pub const DEFAULT_GCP_KMS_ENDPOINT: &str = "https://cloudkms.googleapis.com";

/// The signing key of a Nest service and the backend that holds it.
///
/// In a file: `backend = "local" | "pkcs11" | "aws-kms" | "gcp-kms"` plus that backend's fields.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "backend", rename_all = "kebab-case")]
pub enum SignerConfig {
    /// A key in this process's memory: a hex private key or an encrypted JSON keystore.
    Local(LocalKeyConfig),
    /// A secp256k1 key inside a PKCS#11 hardware security module.
    Pkcs11(Pkcs11Config),
    /// An `ECC_SECG_P256K1` key in AWS KMS.
    AwsKms(AwsKmsConfig),
    /// An `EC_SIGN_SECP256K1_SHA256` key version in Google Cloud KMS.
    GcpKms(GcpKmsConfig),
}

/// A local key: exactly one of `private_key` and `keystore`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalKeyConfig {
    /// 32-byte private key in hex, with or without `0x` (`NEST_SIGNER_KEY`).
    #[serde(default)]
    pub private_key: Option<SecretString>,
    /// Encrypted JSON keystore file (`NEST_SIGNER_KEYSTORE`).
    #[serde(default)]
    pub keystore: Option<PathBuf>,
    /// The keystore's password (`NEST_SIGNER_KEYSTORE_PASSWORD`; empty when unset).
    #[serde(default)]
    pub keystore_password: Option<SecretString>,
}

/// A key in a PKCS#11 token, found by the token's label and the key's label or id.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pkcs11Config {
    /// The vendor's PKCS#11 module (`NEST_PKCS11_MODULE`).
    #[serde(default = "default_pkcs11_module")]
    pub module: PathBuf,
    /// Label of the token holding the key (`NEST_PKCS11_TOKEN_LABEL`).
    pub token_label: String,
    /// The token's user PIN (`NEST_PKCS11_PIN`).
    pub pin: SecretString,
    /// `CKA_LABEL` of the private key (`NEST_PKCS11_KEY_LABEL`).
    #[serde(default)]
    pub key_label: Option<String>,
    /// `CKA_ID` of the private key, in hex (`NEST_PKCS11_KEY_ID`).
    #[serde(default)]
    pub key_id: Option<String>,
}

/// How a PKCS#11 key is looked up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pkcs11KeySelector {
    /// By `CKA_LABEL`.
    Label(String),
    /// By `CKA_ID`.
    Id(Vec<u8>),
}

impl std::fmt::Display for Pkcs11KeySelector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Label(label) => write!(f, "labelled {label:?}"),
            Self::Id(id) => write!(f, "with id 0x{}", hex::encode(id)),
        }
    }
}

/// A key in AWS KMS. Credentials come from the standard AWS chain (environment, profile, web
/// identity, container or instance role).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsKmsConfig {
    /// Key id, key ARN, alias name or alias ARN (`NEST_AWS_KMS_KEY_ID`). Prefer the key id or
    /// ARN: an alias retargeted later would not change the cached address.
    pub key_id: String,
    /// Endpoint override, e.g. a LocalStack URL (`NEST_AWS_KMS_ENDPOINT`).
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Region override (`NEST_AWS_KMS_REGION`); otherwise the AWS chain's (`AWS_REGION`).
    #[serde(default)]
    pub region: Option<String>,
}

/// A key version in Google Cloud KMS. Credentials come from Application Default Credentials.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GcpKmsConfig {
    /// Full key version name (`NEST_GCP_KMS_KEY`):
    /// `projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/V`.
    pub key: String,
    /// Endpoint override (`NEST_GCP_KMS_ENDPOINT`).
    #[serde(default = "default_gcp_endpoint")]
    pub endpoint: String,
}

/// The parts of a Google Cloud KMS key version name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GcpKeyVersion {
    /// Project id.
    pub project: String,
    /// Location, e.g. `global` or `europe-west1`.
    pub location: String,
    /// Key ring name.
    pub key_ring: String,
    /// Key name.
    pub key: String,
    /// Key version (from 1).
    pub version: u64,
}

fn default_pkcs11_module() -> PathBuf {
    PathBuf::from(DEFAULT_PKCS11_MODULE)
}

fn default_gcp_endpoint() -> String {
    DEFAULT_GCP_KMS_ENDPOINT.to_string()
}

fn config_error(message: impl Into<String>) -> KeyError {
    KeyError::Config(message.into())
}

impl SignerConfig {
    /// Backend names as written in `NEST_SIGNER`.
    pub const BACKENDS: [&'static str; 4] = ["local", "pkcs11", "aws-kms", "gcp-kms"];

    /// Reads the configuration through `get` (a variable name to its value: the `nest` command
    /// line's signer arguments, each with its environment variable, or a test's table); `None`
    /// when `NEST_SIGNER` is unset (the caller then uses its own default). Empty values count
    /// as unset.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Option<Self>> {
        let var = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let secret = |name: &str| var(name).map(SecretString::from);
        let Some(backend) = var("NEST_SIGNER") else {
            return Ok(None);
        };
        let config = match backend.trim() {
            "local" => Self::Local(LocalKeyConfig {
                private_key: secret("NEST_SIGNER_KEY"),
                keystore: var("NEST_SIGNER_KEYSTORE").map(PathBuf::from),
                // An empty password is a valid keystore password, so keep it as given.
                keystore_password: get("NEST_SIGNER_KEYSTORE_PASSWORD").map(SecretString::from),
            }),
            "pkcs11" => Self::Pkcs11(Pkcs11Config {
                module: var("NEST_PKCS11_MODULE")
                    .map(PathBuf::from)
                    .unwrap_or_else(default_pkcs11_module),
                token_label: var("NEST_PKCS11_TOKEN_LABEL").ok_or_else(|| {
                    config_error("NEST_SIGNER=pkcs11 needs NEST_PKCS11_TOKEN_LABEL")
                })?,
                pin: secret("NEST_PKCS11_PIN")
                    .ok_or_else(|| config_error("NEST_SIGNER=pkcs11 needs NEST_PKCS11_PIN"))?,
                key_label: var("NEST_PKCS11_KEY_LABEL"),
                key_id: var("NEST_PKCS11_KEY_ID"),
            }),
            "aws-kms" => Self::AwsKms(AwsKmsConfig {
                key_id: var("NEST_AWS_KMS_KEY_ID").ok_or_else(|| {
                    config_error("NEST_SIGNER=aws-kms needs NEST_AWS_KMS_KEY_ID")
                })?,
                endpoint: var("NEST_AWS_KMS_ENDPOINT"),
                region: var("NEST_AWS_KMS_REGION"),
            }),
            "gcp-kms" => Self::GcpKms(GcpKmsConfig {
                key: var("NEST_GCP_KMS_KEY").ok_or_else(|| {
                    config_error(
                        "NEST_SIGNER=gcp-kms needs NEST_GCP_KMS_KEY (projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/V)",
                    )
                })?,
                endpoint: var("NEST_GCP_KMS_ENDPOINT").unwrap_or_else(default_gcp_endpoint),
            }),
            other => {
                return Err(config_error(format!(
                    "NEST_SIGNER={other:?} is not a signer backend; use one of {}",
                    Self::BACKENDS.join(", ")
                )));
            }
        };
        config.validate()?;
        Ok(Some(config))
    }

    /// The backend's name as written in `NEST_SIGNER`.
    pub fn backend(&self) -> &'static str {
        match self {
            Self::Local(_) => "local",
            Self::Pkcs11(_) => "pkcs11",
            Self::AwsKms(_) => "aws-kms",
            Self::GcpKms(_) => "gcp-kms",
        }
    }

    /// Checks every value that can be checked without touching the key.
    pub fn validate(&self) -> Result<()> {
        match self {
            Self::Local(c) => c.validate(),
            Self::Pkcs11(c) => c.validate(),
            Self::AwsKms(c) => c.validate(),
            Self::GcpKms(c) => c.key_version().map(|_| ()),
        }
    }
}

impl LocalKeyConfig {
    /// A configuration holding a hex private key.
    pub fn private_key(key: impl Into<String>) -> Self {
        Self {
            private_key: Some(SecretString::from(key.into())),
            ..Self::default()
        }
    }

    /// A configuration for an encrypted JSON keystore.
    pub fn keystore(path: impl Into<PathBuf>, password: impl Into<String>) -> Self {
        Self {
            keystore: Some(path.into()),
            keystore_password: Some(SecretString::from(password.into())),
            ..Self::default()
        }
    }

    /// Exactly one source, and a private key that is 32 bytes of hex.
    pub fn validate(&self) -> Result<()> {
        match (&self.private_key, &self.keystore) {
            (Some(_), Some(_)) => Err(config_error(
                "local signer: set either NEST_SIGNER_KEY or NEST_SIGNER_KEYSTORE, not both",
            )),
            (None, None) => Err(config_error(
                "local signer: set NEST_SIGNER_KEY (hex private key) or NEST_SIGNER_KEYSTORE (JSON keystore file)",
            )),
            (Some(key), None) => parse_private_key(key).map(|_| ()),
            (None, Some(path)) if path.as_os_str().is_empty() => {
                Err(config_error("local signer: the keystore path is empty"))
            }
            (None, Some(_)) => Ok(()),
        }
    }
}

/// Decodes a hex private key without ever putting it (or a part of it) into an error.
pub(crate) fn parse_private_key(key: &SecretString) -> Result<[u8; 32]> {
    let text = key.expose_secret().trim();
    let text = text.strip_prefix("0x").unwrap_or(text);
    if text.len() != 64 {
        return Err(KeyError::InvalidKey(format!(
            "expected 64 hex digits (32 bytes), got {} characters",
            text.len()
        )));
    }
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(text, &mut bytes)
        .map_err(|_| KeyError::InvalidKey("not hexadecimal".into()))?;
    Ok(bytes)
}

impl Pkcs11Config {
    /// A configuration for the key labelled `key_label` on token `token_label` of `module`.
    pub fn new(
        module: impl Into<PathBuf>,
        token_label: impl Into<String>,
        pin: impl Into<String>,
        key_label: impl Into<String>,
    ) -> Self {
        Self {
            module: module.into(),
            token_label: token_label.into(),
            pin: SecretString::from(pin.into()),
            key_label: Some(key_label.into()),
            key_id: None,
        }
    }

    /// How to find the key: by label or by id (exactly one must be set).
    pub fn key_selector(&self) -> Result<Pkcs11KeySelector> {
        match (&self.key_label, &self.key_id) {
            (Some(label), None) => Ok(Pkcs11KeySelector::Label(label.clone())),
            (None, Some(id)) => {
                let id = id.trim();
                let bytes = hex::decode(id.strip_prefix("0x").unwrap_or(id)).map_err(|_| {
                    config_error(format!("pkcs11: NEST_PKCS11_KEY_ID {id:?} is not hex"))
                })?;
                if bytes.is_empty() {
                    return Err(config_error("pkcs11: NEST_PKCS11_KEY_ID is empty"));
                }
                Ok(Pkcs11KeySelector::Id(bytes))
            }
            (Some(_), Some(_)) => Err(config_error(
                "pkcs11: set either NEST_PKCS11_KEY_LABEL or NEST_PKCS11_KEY_ID, not both",
            )),
            (None, None) => Err(config_error(
                "pkcs11: set NEST_PKCS11_KEY_LABEL (the key's CKA_LABEL) or NEST_PKCS11_KEY_ID (its CKA_ID in hex)",
            )),
        }
    }

    /// Non-empty token label and PIN, exactly one key selector.
    pub fn validate(&self) -> Result<()> {
        if self.module.as_os_str().is_empty() {
            return Err(config_error("pkcs11: the module path is empty"));
        }
        if self.token_label.trim().is_empty() {
            return Err(config_error("pkcs11: NEST_PKCS11_TOKEN_LABEL is empty"));
        }
        if self.token_label.len() > 32 {
            return Err(config_error(
                "pkcs11: a token label has at most 32 bytes (PKCS#11 CK_TOKEN_INFO.label)",
            ));
        }
        if self.pin.expose_secret().is_empty() {
            return Err(config_error("pkcs11: NEST_PKCS11_PIN is empty"));
        }
        self.key_selector().map(|_| ())
    }
}

impl AwsKmsConfig {
    /// A configuration for `key_id` with the default endpoint and region.
    pub fn new(key_id: impl Into<String>) -> Self {
        Self {
            key_id: key_id.into(),
            endpoint: None,
            region: None,
        }
    }

    /// Non-empty key id; an endpoint, if any, is an http(s) URL.
    pub fn validate(&self) -> Result<()> {
        if self.key_id.trim().is_empty() {
            return Err(config_error("aws-kms: NEST_AWS_KMS_KEY_ID is empty"));
        }
        if let Some(endpoint) = &self.endpoint
            && !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
        {
            return Err(config_error(format!(
                "aws-kms: NEST_AWS_KMS_ENDPOINT must be an http:// or https:// URL, got {endpoint:?}"
            )));
        }
        Ok(())
    }
}

impl GcpKmsConfig {
    /// A configuration for a key version name, on Google's endpoint.
    pub fn new(key: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            endpoint: default_gcp_endpoint(),
        }
    }

    /// Parses `projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/V`.
    pub fn key_version(&self) -> Result<GcpKeyVersion> {
        let bad = || {
            config_error(format!(
                "gcp-kms: NEST_GCP_KMS_KEY must be projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/V, got {:?}",
                self.key
            ))
        };
        let parts: Vec<&str> = self.key.trim().trim_matches('/').split('/').collect();
        let [
            "projects",
            project,
            "locations",
            location,
            "keyRings",
            key_ring,
            "cryptoKeys",
            key,
            "cryptoKeyVersions",
            version,
        ] = parts.as_slice()
        else {
            return Err(bad());
        };
        if [project, location, key_ring, key]
            .iter()
            .any(|p| p.is_empty())
        {
            return Err(bad());
        }
        let version: u64 = version.parse().map_err(|_| bad())?;
        if version == 0 {
            return Err(bad());
        }
        if !(self.endpoint.starts_with("https://") || self.endpoint.starts_with("http://")) {
            return Err(config_error(format!(
                "gcp-kms: NEST_GCP_KMS_ENDPOINT must be an http(s) URL, got {:?}",
                self.endpoint
            )));
        }
        Ok(GcpKeyVersion {
            project: project.to_string(),
            location: location.to_string(),
            key_ring: key_ring.to_string(),
            key: key.to_string(),
            version,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn unset_backend_means_no_configuration() {
        let config = SignerConfig::from_lookup(lookup(&[("NEST_SIGNER_KEY", KEY)])).expect("ok");
        assert!(config.is_none());
    }

    #[test]
    fn every_backend_reads_its_variables() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (
                &[("NEST_SIGNER", "local"), ("NEST_SIGNER_KEY", KEY)],
                "local",
            ),
            (
                &[
                    ("NEST_SIGNER", "local"),
                    ("NEST_SIGNER_KEYSTORE", "/k.json"),
                ],
                "local",
            ),
            (
                &[
                    ("NEST_SIGNER", "pkcs11"),
                    ("NEST_PKCS11_TOKEN_LABEL", "nest"),
                    ("NEST_PKCS11_PIN", "1234"),
                    ("NEST_PKCS11_KEY_ID", "0a0b"),
                ],
                "pkcs11",
            ),
            (
                &[
                    ("NEST_SIGNER", "aws-kms"),
                    ("NEST_AWS_KMS_KEY_ID", "alias/nest"),
                    ("NEST_AWS_KMS_ENDPOINT", "http://127.0.0.1:4566"),
                ],
                "aws-kms",
            ),
            (
                &[
                    ("NEST_SIGNER", "gcp-kms"),
                    (
                        "NEST_GCP_KMS_KEY",
                        "projects/p/locations/global/keyRings/r/cryptoKeys/k/cryptoKeyVersions/3",
                    ),
                ],
                "gcp-kms",
            ),
        ];
        for (vars, backend) in cases {
            let config = SignerConfig::from_lookup(lookup(vars))
                .unwrap_or_else(|e| panic!("{vars:?}: {e}"))
                .expect("configured");
            assert_eq!(config.backend(), *backend);
        }
        let Some(SignerConfig::Pkcs11(c)) = SignerConfig::from_lookup(lookup(&[
            ("NEST_SIGNER", "pkcs11"),
            ("NEST_PKCS11_TOKEN_LABEL", "nest"),
            ("NEST_PKCS11_PIN", "1234"),
            ("NEST_PKCS11_KEY_LABEL", "relayer"),
        ]))
        .expect("valid") else {
            panic!("pkcs11 expected")
        };
        assert_eq!(c.module, PathBuf::from(DEFAULT_PKCS11_MODULE));
        assert_eq!(
            c.key_selector().expect("selector"),
            Pkcs11KeySelector::Label("relayer".into())
        );
    }

    #[test]
    fn invalid_configurations_name_the_variable() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("NEST_SIGNER", "vault")], "not a signer backend"),
            (&[("NEST_SIGNER", "local")], "NEST_SIGNER_KEY"),
            (
                &[
                    ("NEST_SIGNER", "local"),
                    ("NEST_SIGNER_KEY", KEY),
                    ("NEST_SIGNER_KEYSTORE", "/k.json"),
                ],
                "not both",
            ),
            (
                &[("NEST_SIGNER", "local"), ("NEST_SIGNER_KEY", "0x1234")],
                "64 hex digits",
            ),
            (
                &[("NEST_SIGNER", "pkcs11"), ("NEST_PKCS11_PIN", "1")],
                "NEST_PKCS11_TOKEN_LABEL",
            ),
            (
                &[
                    ("NEST_SIGNER", "pkcs11"),
                    ("NEST_PKCS11_TOKEN_LABEL", "t"),
                    ("NEST_PKCS11_PIN", "1"),
                ],
                "NEST_PKCS11_KEY_LABEL",
            ),
            (
                &[
                    ("NEST_SIGNER", "pkcs11"),
                    ("NEST_PKCS11_TOKEN_LABEL", "t"),
                    ("NEST_PKCS11_PIN", "1"),
                    ("NEST_PKCS11_KEY_ID", "zz"),
                ],
                "not hex",
            ),
            (&[("NEST_SIGNER", "aws-kms")], "NEST_AWS_KMS_KEY_ID"),
            (
                &[
                    ("NEST_SIGNER", "aws-kms"),
                    ("NEST_AWS_KMS_KEY_ID", "k"),
                    ("NEST_AWS_KMS_ENDPOINT", "localhost:4566"),
                ],
                "http://",
            ),
            (
                &[
                    ("NEST_SIGNER", "gcp-kms"),
                    ("NEST_GCP_KMS_KEY", "projects/p/keyRings/r"),
                ],
                "cryptoKeyVersions/V",
            ),
        ];
        for (vars, expected) in cases {
            let err = SignerConfig::from_lookup(lookup(vars)).expect_err("invalid");
            assert!(
                err.to_string().contains(expected),
                "{vars:?}: {err} lacks {expected:?}"
            );
        }
    }

    #[test]
    fn secrets_never_show_in_debug_or_errors() {
        let pin = "pin-7c1d39d";
        let password = "pw-5d1bfc3";
        let configs = [
            SignerConfig::Local(LocalKeyConfig::private_key(KEY)),
            SignerConfig::Local(LocalKeyConfig::keystore("/k.json", password)),
            SignerConfig::Pkcs11(Pkcs11Config::new("/m.so", "t", pin, "k")),
        ];
        for config in &configs {
            let shown = format!("{config:?} {config:#?}");
            for secret in [&KEY[2..], pin, password] {
                assert!(!shown.contains(secret), "{shown}");
            }
        }
        // A malformed key of the right length must not be echoed either.
        let bad = format!("0x{}", "g".repeat(64));
        let err = LocalKeyConfig::private_key(bad.clone())
            .validate()
            .expect_err("not hex");
        assert!(!err.to_string().contains(&bad[2..]), "{err}");
        assert!(!format!("{err:?}").contains(&bad[2..]), "{err:?}");
    }

    #[test]
    fn deserialises_from_a_file() {
        let config: SignerConfig = serde_json::from_str(
            r#"{"backend":"pkcs11","token_label":"nest","pin":"1234","key_label":"relayer"}"#,
        )
        .expect("pkcs11");
        config.validate().expect("valid");
        assert_eq!(config.backend(), "pkcs11");
        let config: SignerConfig =
            serde_json::from_str(r#"{"backend":"aws-kms","key_id":"alias/nest"}"#).expect("aws");
        assert_eq!(config.backend(), "aws-kms");
        let err = serde_json::from_str::<SignerConfig>(
            r#"{"backend":"aws-kms","key_id":"k","endpont":"http://x"}"#,
        )
        .expect_err("typo");
        assert!(err.to_string().contains("endpont"), "{err}");
    }

    #[test]
    fn gcp_key_version_names_parse() {
        let v = GcpKmsConfig::new(
            "projects/nest-prod/locations/europe-west1/keyRings/relayer/cryptoKeys/hot/cryptoKeyVersions/2",
        )
        .key_version()
        .expect("valid");
        assert_eq!(
            v,
            GcpKeyVersion {
                project: "nest-prod".into(),
                location: "europe-west1".into(),
                key_ring: "relayer".into(),
                key: "hot".into(),
                version: 2,
            }
        );
        for bad in [
            "projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/0",
            "projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/x",
            "projects//locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1",
            "projects/p/locations/l/keyRings/r/cryptoKeys/k",
        ] {
            assert!(GcpKmsConfig::new(bad).key_version().is_err(), "{bad}");
        }
    }
}
