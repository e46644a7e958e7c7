//! Compiling `contracts/src` from Rust with foundry-compilers (offline, through the project's
//! solc wrapper) into the checked-in artifact format of `nest-abis`.

use crate::{
    error::{ChainError, Result},
    layout::{DEPLOYABLE_CONTRACTS, ProjectLayout, TEST_CONTRACTS},
};
use foundry_compilers::{
    ProjectBuilder, ProjectPathsConfig,
    artifacts::{
        BytecodeHash, EvmVersion, Optimizer, Settings, SettingsMetadata, Severity,
        remappings::Remapping,
    },
    solc::{Solc, SolcCompiler, SolcSettings},
};
use nest_abis::{BytecodeObject, ContractArtifact};
use std::{
    path::{Path, PathBuf},
    process::Command,
    str::FromStr,
};
use tracing::{debug, info};

/// Compiler settings shared with `contracts/foundry.toml`; keep both in step.
const OPTIMIZER_RUNS: usize = 200;

/// Compiles Nest's deployable contracts and writes or verifies their artifacts.
#[derive(Debug, Clone)]
pub struct ContractCompiler {
    layout: ProjectLayout,
}

/// Outcome of comparing the committed artifacts with a fresh compilation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactCheck {
    /// Artifacts whose committed file differs from the compilation (or is missing).
    pub stale: Vec<String>,
}

impl ContractCompiler {
    /// A compiler for the checkout at `layout`.
    pub fn new(layout: ProjectLayout) -> Self {
        Self { layout }
    }

    /// The solc version behind the wrapper, as `solc --version` reports it.
    pub fn solc_version(&self) -> Result<semver::Version> {
        let wrapper = self.layout.solc_wrapper();
        let output = Command::new(&wrapper)
            .arg("--version")
            .output()
            .map_err(|e| {
                ChainError::Compile(format!(
                    "cannot run the solc wrapper {} ({e}); run the setup step (scripts/setup)",
                    wrapper.display()
                ))
            })?;
        let text = String::from_utf8_lossy(&output.stdout);
        let version = text
            .lines()
            .find_map(|line| line.strip_prefix("Version: "))
            .and_then(|v| v.split('+').next())
            .ok_or_else(|| {
                ChainError::Compile(format!(
                    "the solc wrapper printed no version: {}{}",
                    text.trim(),
                    String::from_utf8_lossy(&output.stderr).trim()
                ))
            })?;
        semver::Version::from_str(version.trim())
            .map_err(|e| ChainError::Compile(format!("unparsable solc version {version}: {e}")))
    }

    /// Compiles `contracts/src` and returns one artifact per deployable contract, then one per
    /// test-only contract ([`TEST_CONTRACTS`]).
    pub fn compile(&self) -> Result<Vec<ContractArtifact>> {
        let version = self.solc_version()?;
        let root = self.layout.contracts_dir();
        let sources = self.layout.contract_sources_dir();
        let node_modules = self.layout.node_modules();
        let remapping = Remapping::from_str(&format!(
            "@openzeppelin/contracts/={}/",
            node_modules.join("@openzeppelin/contracts").display()
        ))
        .map_err(|e| ChainError::Compile(format!("remapping: {e}")))?;

        let paths = ProjectPathsConfig::builder()
            .root(&root)
            .sources(&sources)
            .libs([node_modules.clone()])
            .remappings([remapping.clone()])
            .build()
            .map_err(|e| ChainError::Compile(format!("project paths: {e}")))?;

        let settings = Settings {
            optimizer: Optimizer {
                enabled: Some(true),
                runs: Some(OPTIMIZER_RUNS),
                details: None,
            },
            evm_version: Some(EvmVersion::Prague),
            metadata: Some(SettingsMetadata::new(BytecodeHash::None, false)),
            remappings: vec![remapping],
            ..Settings::default()
        };

        let solc = Solc::new_with_version(self.layout.solc_wrapper(), version.clone());
        let project = ProjectBuilder::<SolcCompiler>::default()
            .paths(paths)
            .settings(SolcSettings {
                settings,
                ..Default::default()
            })
            .ephemeral()
            .no_artifacts()
            .offline()
            .set_compiler_severity_filter(Severity::Error)
            .build(SolcCompiler::Specific(solc))
            .map_err(|e| ChainError::Compile(format!("project: {e}")))?;

        // The deployable contracts, then the test-only ones (same settings, same checks).
        let units: Vec<(&str, String)> = DEPLOYABLE_CONTRACTS
            .iter()
            .map(|name| (*name, format!("src/{name}.sol")))
            .chain(
                TEST_CONTRACTS
                    .iter()
                    .map(|(name, folder)| (*name, format!("{folder}/{name}.sol"))),
            )
            .collect();
        let files: Vec<PathBuf> = units.iter().map(|(_, source)| root.join(source)).collect();
        info!(solc = %version, files = files.len(), "compiling contracts");
        let output = project
            .compile_files(files)
            .map_err(|e| ChainError::Compile(e.to_string()))?;
        if output.has_compiler_errors() {
            return Err(ChainError::Compile(output.to_string()));
        }
        let compiled = output.into_output();

        let compiler = solc_long_version(&self.layout)?;
        let mut artifacts = Vec::with_capacity(units.len());
        for (name, source_name) in units {
            let (path, contract) = compiled
                .contracts_with_files_iter()
                .find(|(path, contract_name, _)| {
                    contract_name.as_str() == name && path.ends_with(&source_name)
                })
                .map(|(path, _, contract)| (path.clone(), contract.clone()))
                .ok_or_else(|| {
                    ChainError::Compile(format!("{name} not found in the compiler output"))
                })?;
            debug!(name, path = %path.display(), "compiled");
            let abi = contract
                .abi
                .ok_or_else(|| ChainError::Compile(format!("{name}: no ABI in output")))?;
            let evm = contract
                .evm
                .ok_or_else(|| ChainError::Compile(format!("{name}: no EVM output")))?;
            let bytecode = evm
                .bytecode
                .and_then(|b| b.object.into_bytes())
                .ok_or_else(|| ChainError::Compile(format!("{name}: no linked creation code")))?;
            let deployed = evm
                .deployed_bytecode
                .and_then(|b| b.bytecode)
                .and_then(|b| b.object.into_bytes())
                .ok_or_else(|| ChainError::Compile(format!("{name}: no linked runtime code")))?;
            artifacts.push(ContractArtifact {
                contract_name: name.to_string(),
                source_name,
                compiler: compiler.clone(),
                abi,
                bytecode: BytecodeObject { object: bytecode },
                deployed_bytecode: BytecodeObject { object: deployed },
            });
        }
        Ok(artifacts)
    }

    /// Compiles and writes the artifacts into `abis/artifacts/`. Returns the files written.
    pub fn build(&self) -> Result<Vec<PathBuf>> {
        let dir = self.layout.artifacts_dir();
        std::fs::create_dir_all(&dir).map_err(|e| ChainError::io(&dir, e))?;
        let mut written = Vec::new();
        for artifact in self.compile()? {
            let path = dir.join(format!("{}.json", artifact.contract_name));
            let json = artifact
                .to_json()
                .map_err(|e| ChainError::Compile(format!("{}: {e}", artifact.contract_name)))?;
            std::fs::write(&path, json).map_err(|e| ChainError::io(&path, e))?;
            info!(path = %path.display(), "wrote artifact");
            written.push(path);
        }
        Ok(written)
    }

    /// Compiles and compares with the committed artifacts, byte for byte.
    pub fn check(&self) -> Result<ArtifactCheck> {
        let artifacts = self.compile()?;
        Ok(ArtifactCheck {
            stale: stale_artifacts(&self.layout.artifacts_dir(), &artifacts)?,
        })
    }
}

/// Names of the `artifacts` whose file in `dir` is missing or differs from them.
pub fn stale_artifacts(dir: &Path, artifacts: &[ContractArtifact]) -> Result<Vec<String>> {
    let mut stale = Vec::new();
    for artifact in artifacts {
        let path = dir.join(format!("{}.json", artifact.contract_name));
        let expected = artifact
            .to_json()
            .map_err(|e| ChainError::Compile(format!("{}: {e}", artifact.contract_name)))?;
        match std::fs::read_to_string(&path) {
            Ok(committed) if committed == expected => {}
            Ok(_) => stale.push(artifact.contract_name.clone()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                stale.push(artifact.contract_name.clone())
            }
            Err(e) => return Err(ChainError::io(&path, e)),
        }
    }
    Ok(stale)
}

/// `0.8.30+commit.73712a01` from the wrapper's `--version` output.
fn solc_long_version(layout: &ProjectLayout) -> Result<String> {
    let output = Command::new(layout.solc_wrapper())
        .arg("--version")
        .output()
        .map_err(|e| ChainError::Compile(format!("solc wrapper: {e}")))?;
    let text = String::from_utf8_lossy(&output.stdout);
    text.lines()
        .find_map(|line| line.strip_prefix("Version: "))
        .map(|v| v.trim().trim_end_matches(".Linux.g++").to_string())
        .ok_or_else(|| ChainError::Compile("the solc wrapper printed no version".into()))
}
