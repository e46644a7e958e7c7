//! Revert reasons in words: custom errors decoded from the checked-in ABIs of every Nest
//! contract (which include OpenZeppelin's errors they inherit), plus Solidity's `Error(string)`
//! and `Panic(uint256)`.

use alloy::{
    dyn_abi::{DynSolValue, JsonAbiExt},
    json_abi::Error as AbiError,
    primitives::{FixedBytes, hex},
};
use std::collections::HashMap;

/// `Error(string)`.
const ERROR_STRING: [u8; 4] = [0x08, 0xc3, 0x79, 0xa0];
/// `Panic(uint256)`.
const PANIC: [u8; 4] = [0x4e, 0x48, 0x7b, 0x71];
/// OpenZeppelin's `FailedCall()`: the forwarder's answer when the forwarded call reverted.
pub const FAILED_CALL: [u8; 4] = [0xd6, 0xbd, 0xa2, 0x75];

/// Decodes revert data into `Name(field: value, ...)`.
#[derive(Debug, Clone)]
pub struct RevertDecoder {
    errors: HashMap<FixedBytes<4>, AbiError>,
}

impl Default for RevertDecoder {
    fn default() -> Self {
        Self::nest()
    }
}

impl RevertDecoder {
    /// Every custom error of Nest's contracts.
    pub fn nest() -> Self {
        let mut errors = HashMap::new();
        for name in nest_abis::ARTIFACT_NAMES {
            // The artifacts are checked in and parse (nest-abis tests it); a failure here would
            // only lose names, never correctness.
            if let Ok(artifact) = nest_abis::artifact(name) {
                for error in artifact.abi.errors() {
                    errors
                        .entry(error.selector())
                        .or_insert_with(|| error.clone());
                }
            }
        }
        Self { errors }
    }

    /// True when `data` is the forwarder's `FailedCall()` (the real reason is the target's).
    pub fn is_failed_call(data: &[u8]) -> bool {
        data.len() >= 4 && data[..4] == FAILED_CALL
    }

    /// The reason in words.
    pub fn decode(&self, data: &[u8]) -> String {
        if data.is_empty() {
            return "reverted without a reason".into();
        }
        if data.len() < 4 {
            return format!("reverted with 0x{}", hex::encode(data));
        }
        let selector = FixedBytes::<4>::from_slice(&data[..4]);
        if selector.0 == ERROR_STRING
            && let Ok(decoded) = alloy::dyn_abi::DynSolType::String.abi_decode(&data[4..])
            && let Some(text) = decoded.as_str()
        {
            return format!("Error({text:?})");
        }
        if selector.0 == PANIC
            && let Ok(decoded) = alloy::dyn_abi::DynSolType::Uint(256).abi_decode(&data[4..])
            && let Some((code, _)) = decoded.as_uint()
        {
            return format!("Panic(0x{code:x})");
        }
        match self.errors.get(&selector) {
            Some(error) => match error.abi_decode_input(&data[4..]) {
                Ok(values) => {
                    let fields: Vec<String> = error
                        .inputs
                        .iter()
                        .zip(values.iter())
                        .map(|(param, value)| {
                            if param.name.is_empty() {
                                show(value)
                            } else {
                                format!("{}: {}", param.name, show(value))
                            }
                        })
                        .collect();
                    format!("{}({})", error.name, fields.join(", "))
                }
                Err(_) => format!("{}(<undecodable arguments>)", error.name),
            },
            None => format!(
                "unknown error {selector} ({} bytes of arguments)",
                data.len() - 4
            ),
        }
    }
}

fn show(value: &DynSolValue) -> String {
    match value {
        DynSolValue::Address(a) => a.to_checksum(None),
        DynSolValue::Uint(v, _) => v.to_string(),
        DynSolValue::Int(v, _) => v.to_string(),
        DynSolValue::Bool(b) => b.to_string(),
        DynSolValue::String(s) => format!("{s:?}"),
        DynSolValue::Bytes(b) => format!("0x{}", hex::encode(b)),
        DynSolValue::FixedBytes(b, size) => format!("0x{}", hex::encode(&b[..*size])),
        DynSolValue::Array(items) | DynSolValue::FixedArray(items) | DynSolValue::Tuple(items) => {
            format!(
                "[{}]",
                items.iter().map(show).collect::<Vec<_>>().join(", ")
            )
        }
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::{
        primitives::{Address, U256},
        sol_types::SolError,
    };
    use nest_abis::{NestForwarder, NestMarketplace};

    #[test]
    fn custom_errors_of_every_contract_decode_with_their_fields() {
        let decoder = RevertDecoder::nest();
        let data = NestMarketplace::NotTokenOwner {
            nft: Address::repeat_byte(0xaa),
            tokenId: U256::from(7),
            account: Address::repeat_byte(0xbb),
        }
        .abi_encode();
        let text = decoder.decode(&data);
        assert!(text.starts_with("NotTokenOwner(nft: 0x"), "{text}");
        assert!(text.contains("tokenId: 7"), "{text}");

        let data = NestForwarder::ERC2771ForwarderInvalidSigner {
            signer: Address::ZERO,
            from: Address::repeat_byte(1),
        }
        .abi_encode();
        assert!(
            decoder
                .decode(&data)
                .starts_with("ERC2771ForwarderInvalidSigner(")
        );
        assert!(RevertDecoder::is_failed_call(
            &NestForwarder::FailedCall {}.abi_encode()
        ));
    }

    #[test]
    fn builtin_and_unknown_reverts_are_readable() {
        let decoder = RevertDecoder::nest();
        let mut data = ERROR_STRING.to_vec();
        data.extend(alloy::dyn_abi::DynSolValue::String("nope".into()).abi_encode_params());
        assert_eq!(decoder.decode(&data), "Error(\"nope\")");
        assert_eq!(decoder.decode(&[]), "reverted without a reason");
        assert!(
            decoder
                .decode(&[1, 2, 3, 4, 5])
                .starts_with("unknown error 0x01020304")
        );
    }
}
