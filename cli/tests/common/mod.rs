//! Helpers the `nest` binary's test files share.

#![allow(dead_code, unreachable_pub)]

use std::{net::TcpStream, path::PathBuf, process::Command};

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The `nest` binary with its state in `state_dir`, logging warnings only.
pub fn nest(state_dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nest"));
    cmd.env("NEST_ROOT", root())
        .env("NEST_STATE_DIR", state_dir)
        .env("NEST_LOG", "warn");
    cmd
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
        &nest_chain::ProjectLayout::new(root())
            .expect("layout")
            .anvil_binary(),
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
