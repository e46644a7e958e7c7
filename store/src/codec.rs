//! How chain values are stored: addresses and hashes as lowercase hex, 256-bit integers as
//! 78-digit zero-padded decimal strings (exact, and their string order is their numeric order,
//! so range filters and sorts on prices work without floating point).

use alloy::primitives::{Address, B256, U256};

/// Digits of the largest U256.
pub const U256_DIGITS: usize = 78;

/// `0x`-prefixed lowercase hex of an address (one spelling per address, for unique keys).
pub fn address_key(address: &Address) -> String {
    format!("{address:#x}")
}

/// The stored form of a U256.
pub fn u256_key(value: &U256) -> String {
    format!(
        "{value:0>width$}",
        value = value.to_string(),
        width = U256_DIGITS
    )
}

/// Serde for [`Address`] as lowercase hex.
pub mod address {
    use super::*;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    /// Serialises as lowercase hex.
    pub fn serialize<S: Serializer>(value: &Address, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&address_key(value))
    }

    /// Parses hex in any case.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Address, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(D::Error::custom)
    }
}

/// Serde for `Option<Address>`.
pub mod option_address {
    use super::*;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    /// Serialises `Some` as lowercase hex, `None` as null.
    pub fn serialize<S: Serializer>(value: &Option<Address>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(a) => s.serialize_str(&address_key(a)),
            None => s.serialize_none(),
        }
    }

    /// Parses hex or null.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Address>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|t| t.parse().map_err(D::Error::custom))
            .transpose()
    }
}

/// Serde for [`B256`] as lowercase hex.
pub mod b256 {
    use super::*;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    /// Serialises as lowercase hex.
    pub fn serialize<S: Serializer>(value: &B256, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{value:#x}"))
    }

    /// Parses hex.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<B256, D::Error> {
        String::deserialize(d)?.parse().map_err(D::Error::custom)
    }
}

/// Serde for [`U256`] as a 78-digit decimal string.
pub mod u256 {
    use super::*;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    /// Serialises zero-padded.
    pub fn serialize<S: Serializer>(value: &U256, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&u256_key(value))
    }

    /// Parses a decimal string (padded or not).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<U256, D::Error> {
        let text = String::deserialize(d)?;
        U256::from_str_radix(&text, 10).map_err(D::Error::custom)
    }
}

/// Serde for `Vec<U256>` as decimal strings.
pub mod vec_u256 {
    use super::*;
    use serde::{Deserialize, Deserializer, Serializer, de::Error, ser::SerializeSeq};

    /// Serialises each value zero-padded.
    pub fn serialize<S: Serializer>(values: &[U256], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(values.len()))?;
        for v in values {
            seq.serialize_element(&u256_key(v))?;
        }
        seq.end()
    }

    /// Parses each decimal string.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<U256>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|t| U256::from_str_radix(t, 10).map_err(D::Error::custom))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn u256_keys_sort_like_numbers() {
        let values = [
            U256::ZERO,
            U256::from(9),
            U256::from(10),
            U256::from(1_000_000),
            U256::MAX,
        ];
        let keys: Vec<String> = values.iter().map(u256_key).collect();
        assert!(keys.iter().all(|k| k.len() == U256_DIGITS));
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(sorted, keys);
        assert_eq!(
            U256::from_str_radix(&keys[4], 10).expect("parses"),
            U256::MAX
        );
    }

    #[test]
    fn addresses_have_one_spelling() {
        let checksummed: Address = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
            .parse()
            .expect("address");
        assert_eq!(
            address_key(&checksummed),
            "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
        );
    }
}
