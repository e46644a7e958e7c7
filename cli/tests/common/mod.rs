//! Helpers the `nest` binary's test files share (over `nest-testkit`).

#![allow(dead_code, unreachable_pub)]

use nest_testkit::NestCommand;
use std::{net::TcpStream, path::PathBuf, process::Command};

/// The workspace root.
pub fn root() -> PathBuf {
    nest_testkit::root()
}

/// The `nest` binary this crate built, with its state in `state_dir`, logging warnings only.
pub fn nest(state_dir: &std::path::Path) -> Command {
    NestCommand::at(std::path::Path::new(env!("CARGO_BIN_EXE_nest")), &[])
        .env("NEST_STATE_DIR", state_dir)
        .into_command()
}

/// Something accepts connections on the loopback `port`.
pub fn listening(port: u16) -> bool {
    TcpStream::connect(("127.0.0.1", port)).is_ok()
}

/// A fresh anvil with the contracts deployed by `nest deploy --dev`: the state folder, the
/// node, its URL and the manifest path.
pub fn deployed_by_the_binary() -> (tempfile::TempDir, nest_chain::AnvilNode, String, PathBuf) {
    let state = tempfile::tempdir().expect("tmp");
    let anvil = nest_chain::AnvilNode::spawn(
        &nest_testkit::layout().anvil_binary(),
        &nest_chain::AnvilOptions::default(),
    )
    .expect("anvil");
    let url = anvil.endpoint().to_string();
    let manifest = state.path().join("manifest.json");
    let deployed = nest(state.path())
        .args(["deploy", "--dev", "--rpc-url", &url, "--manifest"])
        .arg(&manifest)
        .output()
        .expect("deploy");
    assert!(
        deployed.status.success(),
        "{}",
        String::from_utf8_lossy(&deployed.stderr)
    );
    (state, anvil, url, manifest)
}
