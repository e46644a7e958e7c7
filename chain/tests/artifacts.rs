//! The checked-in artifacts are exactly what `contracts/src` compiles to (through
//! foundry-compilers and the project's solc wrapper), and the check notices any difference.

mod common;

use nest_chain::{
    ContractCompiler, DEPLOYABLE_CONTRACTS, TEST_CONTRACTS, compile::stale_artifacts,
};

#[test]
fn committed_artifacts_are_exactly_what_the_sources_compile_to() {
    let layout = common::layout();
    let compiler = ContractCompiler::new(layout.clone());
    let artifacts = compiler.compile().expect("contracts compile");
    assert_eq!(
        artifacts
            .iter()
            .map(|a| a.contract_name.as_str())
            .collect::<Vec<_>>(),
        DEPLOYABLE_CONTRACTS
            .into_iter()
            .chain(TEST_CONTRACTS.map(|(name, _)| name))
            .collect::<Vec<_>>()
    );
    let stale = stale_artifacts(&layout.artifacts_dir(), &artifacts).expect("compare");
    assert!(
        stale.is_empty(),
        "out of date (run `nest contracts build`): {stale:?}"
    );

    // The comparison is byte for byte: one changed byte in a copy is reported.
    let copy = tempfile::tempdir().expect("tmp");
    for name in DEPLOYABLE_CONTRACTS
        .into_iter()
        .chain(TEST_CONTRACTS.map(|(name, _)| name))
    {
        let file = format!("{name}.json");
        std::fs::copy(layout.artifacts_dir().join(&file), copy.path().join(&file)).expect("copy");
    }
    let tampered = copy.path().join("NestMarketplace.json");
    let text = std::fs::read_to_string(&tampered).expect("read");
    std::fs::write(&tampered, text.replacen("\"buy\"", "\"buY\"", 1)).expect("write");
    std::fs::remove_file(copy.path().join("NestToken.json")).expect("remove");
    let stale = stale_artifacts(copy.path(), &artifacts).expect("compare");
    assert_eq!(stale, vec!["NestToken", "NestMarketplace"]);
}
