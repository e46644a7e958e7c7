//! What every service reads about a deployment: the manifest `deployments/<chain-id>.json`
//! (what is deployed where, written by `nest-chain`'s deployer after every successful step, so
//! it always records what was actually deployed) and the Nest contracts' addresses in it.

use crate::AbiError;
use alloy::primitives::{Address, B256, Bytes};
use serde::{Deserialize, Serialize};
use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

/// One deployed contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeployedContract {
    /// Address of the contract.
    pub address: Address,
    /// Block that included the deployment.
    pub deploy_block: u64,
    /// Deployment transaction.
    pub tx_hash: B256,
    /// keccak256 of the artifact's creation code it was deployed from.
    pub artifact_hash: B256,
    /// ABI-encoded constructor arguments.
    pub constructor_args: Bytes,
}

/// Everything deployed on one chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentManifest {
    /// Chain the contracts live on.
    pub chain_id: u64,
    /// Account that deployed them.
    pub deployer: Address,
    /// Deployed contracts by name (`NestMarketplace`, ...).
    pub contracts: BTreeMap<String, DeployedContract>,
}

impl DeploymentManifest {
    /// An empty manifest for `chain_id`.
    pub fn new(chain_id: u64, deployer: Address) -> Self {
        Self {
            chain_id,
            deployer,
            contracts: BTreeMap::new(),
        }
    }

    /// Reads a manifest; `Ok(None)` when the file does not exist.
    pub fn load(path: &Path) -> Result<Option<Self>, AbiError> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                serde_json::from_str(&text)
                    .map(Some)
                    .map_err(|source| AbiError::ManifestJson {
                        path: path.to_path_buf(),
                        source,
                    })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(AbiError::ManifestIo {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Writes the manifest atomically (temporary file + rename), creating the folder.
    pub fn save(&self, path: &Path) -> Result<(), AbiError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| AbiError::ManifestIo {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let mut text =
            serde_json::to_string_pretty(self).map_err(|source| AbiError::ManifestJson {
                path: path.to_path_buf(),
                source,
            })?;
        text.push('\n');
        let tmp = tmp_path(path);
        std::fs::write(&tmp, text).map_err(|source| AbiError::ManifestIo {
            path: tmp.clone(),
            source,
        })?;
        std::fs::rename(&tmp, path).map_err(|source| AbiError::ManifestIo {
            path: path.to_path_buf(),
            source,
        })
    }

    /// The address of contract `name`, if deployed.
    pub fn address(&self, name: &str) -> Option<Address> {
        self.contracts.get(name).map(|c| c.address)
    }

    /// The address of contract `name`, or an error naming what is missing.
    pub fn require(&self, name: &str) -> Result<Address, AbiError> {
        self.address(name).ok_or_else(|| AbiError::NotDeployed {
            name: name.to_string(),
            chain_id: self.chain_id,
        })
    }
}

/// The addresses of the deployed Nest contracts: what every service is configured with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NestAddresses {
    /// ERC-2771 forwarder.
    pub forwarder: Address,
    /// Governance token.
    pub token: Address,
    /// Timelock (the DAO's executor and treasury by default).
    pub timelock: Address,
    /// Governor.
    pub governor: Address,
    /// NFT collection.
    pub nft: Address,
    /// Marketplace.
    pub marketplace: Address,
}

impl NestAddresses {
    /// Every contract, in deployment order: forwarder, token, timelock, governor, nft,
    /// marketplace (the indexer's log filter, a child process's configuration).
    pub fn all(&self) -> [Address; 6] {
        [
            self.forwarder,
            self.token,
            self.timelock,
            self.governor,
            self.nft,
            self.marketplace,
        ]
    }

    /// Reads the addresses from a manifest.
    pub fn from_manifest(manifest: &DeploymentManifest) -> Result<Self, AbiError> {
        Ok(Self {
            forwarder: manifest.require("NestForwarder")?,
            token: manifest.require("NestToken")?,
            timelock: manifest.require("NestTimelock")?,
            governor: manifest.require("NestGovernor")?,
            nft: manifest.require("NestNFT")?,
            marketplace: manifest.require("NestMarketplace")?,
        })
    }
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".tmp");
    path.with_file_name(name)
}

/// The six addresses of [`NestAddresses::all`], comma-separated.
impl std::fmt::Display for NestAddresses {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let all = self.all().map(|a| a.to_string());
        f.write_str(&all.join(","))
    }
}

/// Parses what [`Display`](std::fmt::Display) writes.
impl std::str::FromStr for NestAddresses {
    type Err = AbiError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let parsed: Vec<Address> = text
            .split(',')
            .map(|a| a.trim().parse())
            .collect::<Result<_, _>>()
            .map_err(|_| AbiError::AddressList(text.to_string()))?;
        match parsed[..] {
            [forwarder, token, timelock, governor, nft, marketplace] => Ok(Self {
                forwarder,
                token,
                timelock,
                governor,
                nft,
                marketplace,
            }),
            _ => Err(AbiError::AddressList(text.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_round_trips_through_its_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("deployments/31337.json");
        assert_eq!(
            DeploymentManifest::load(&path).expect("missing is fine"),
            None
        );
        let mut manifest = DeploymentManifest::new(31337, Address::repeat_byte(1));
        manifest.contracts.insert(
            "NestToken".into(),
            DeployedContract {
                address: Address::repeat_byte(2),
                deploy_block: 7,
                tx_hash: B256::repeat_byte(3),
                artifact_hash: B256::repeat_byte(4),
                constructor_args: Bytes::from_static(&[1, 2, 3]),
            },
        );
        manifest.save(&path).expect("save");
        let loaded = DeploymentManifest::load(&path)
            .expect("load")
            .expect("present");
        assert_eq!(loaded, manifest);
        assert_eq!(
            loaded.require("NestToken").expect("known"),
            Address::repeat_byte(2)
        );
        let missing = loaded.require("NestNFT").expect_err("not deployed");
        assert_eq!(
            missing.to_string(),
            "NestNFT is not in the deployment manifest of chain 31337"
        );
        assert!(NestAddresses::from_manifest(&loaded).is_err());
    }

    #[test]
    fn corrupt_manifest_is_a_clear_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("1.json");
        std::fs::write(&path, "{not json").expect("write");
        let err = DeploymentManifest::load(&path).expect_err("corrupt");
        assert!(err.to_string().contains("invalid JSON"), "{err}");
    }

    #[test]
    fn addresses_round_trip_as_a_comma_list_and_a_short_list_is_refused() {
        let a = NestAddresses {
            forwarder: Address::repeat_byte(1),
            token: Address::repeat_byte(2),
            timelock: Address::repeat_byte(3),
            governor: Address::repeat_byte(4),
            nft: Address::repeat_byte(5),
            marketplace: Address::repeat_byte(6),
        };
        assert_eq!(a.to_string().parse::<NestAddresses>().expect("parses"), a);
        let five = a.all()[..5]
            .iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(",");
        assert!(matches!(
            five.parse::<NestAddresses>(),
            Err(AbiError::AddressList(_))
        ));
    }
}
