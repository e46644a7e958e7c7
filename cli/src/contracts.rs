//! `nest contracts build|check`.

use clap::{Args, Subcommand};
use eyre::{WrapErr, bail};
use nest_chain::{ContractCompiler, ProjectLayout};

/// Arguments of `nest contracts`.
#[derive(Debug, Args)]
pub(crate) struct ContractsArgs {
    #[command(subcommand)]
    command: ContractsCommand,
}

#[derive(Debug, Subcommand)]
enum ContractsCommand {
    /// Compile contracts/src and write abis/artifacts/*.json.
    Build,
    /// Compile and fail if the committed artifacts differ.
    Check,
}

pub(crate) async fn run(args: ContractsArgs) -> eyre::Result<()> {
    let layout = ProjectLayout::discover()?;
    let compiler = ContractCompiler::new(layout);
    match args.command {
        ContractsCommand::Build => {
            let written = tokio::task::spawn_blocking(move || compiler.build())
                .await
                .wrap_err("compiler task")??;
            for path in written {
                println!("{}", path.display());
            }
        }
        ContractsCommand::Check => {
            let check = tokio::task::spawn_blocking(move || compiler.check())
                .await
                .wrap_err("compiler task")??;
            if !check.stale.is_empty() {
                bail!(
                    "artifacts out of date: {} (run `nest contracts build`)",
                    check.stale.join(", ")
                );
            }
            println!("artifacts match the sources");
        }
    }
    Ok(())
}
