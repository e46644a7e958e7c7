//! The checked-in artifact format: one JSON file per deployable contract.

use alloy::{
    json_abi::JsonAbi,
    primitives::{B256, Bytes, keccak256},
};
use serde::{Deserialize, Serialize};

/// Bytecode as Foundry writes it (`{"object": "0x..."}`), so `alloy::sol!` reads the same file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BytecodeObject {
    /// The hex-encoded bytecode.
    pub object: Bytes,
}

/// A compiled contract: ABI plus creation and runtime bytecode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContractArtifact {
    /// Contract name (`NestNFT`).
    pub contract_name: String,
    /// Source file relative to `contracts/` (`src/NestNFT.sol`).
    pub source_name: String,
    /// Compiler that produced it (`0.8.30+commit.73712a01`).
    pub compiler: String,
    /// The ABI.
    pub abi: JsonAbi,
    /// Creation bytecode (constructor arguments not included).
    pub bytecode: BytecodeObject,
    /// Runtime bytecode (immutables still zeroed).
    pub deployed_bytecode: BytecodeObject,
}

impl ContractArtifact {
    /// Parses an artifact file's contents.
    pub fn from_json(json: &str) -> Result<Self, crate::AbiError> {
        serde_json::from_str(json).map_err(crate::AbiError::Json)
    }

    /// Serialises the artifact as it is checked in (pretty JSON, trailing newline), so that the
    /// same compilation always produces the same bytes.
    pub fn to_json(&self) -> Result<String, crate::AbiError> {
        let mut text = serde_json::to_string_pretty(self).map_err(crate::AbiError::Json)?;
        text.push('\n');
        Ok(text)
    }

    /// Hash identifying this build of the contract: keccak256 of the creation bytecode.
    /// Deployment manifests record it to tell whether a deployed contract matches.
    pub fn creation_code_hash(&self) -> B256 {
        keccak256(&self.bytecode.object)
    }
}
