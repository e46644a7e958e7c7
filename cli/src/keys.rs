//! `nest keys`: the key rings in the store (status, rotate, retire) and the signing audit
//! (verify the hash chain, daily report); and the key-ring arguments `nest api` and `nest dev`
//! share.

use crate::bootstrap::{StoreArgs, Tasks};
use clap::{Args, Subcommand};
use eyre::{WrapErr, bail};
use nest_keyring::{LocalKeyStore, SESSION_TOKEN, SessionKeyRing};
use nest_keys::SecretString;
use nest_store::{ChainBreak, KeyVersion, Store};
use std::{path::PathBuf, sync::Arc, time::Duration};
use tracing::{info, warn};

/// How often each api instance re-reads the session-token ring (a rotation or retirement made
/// elsewhere reaches it within this).
const RING_REFRESH: Duration = Duration::from_secs(1);
/// How often the scheduled upkeep (retire what is due, rotate when old) runs.
const RING_UPKEEP: Duration = Duration::from_secs(30);

/// A duration written `90s`, `15m`, `12h` or `30d`.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("{text:?}: add a unit (s, m, h or d)"))?;
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} does not start with a number"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return Err(format!("{text:?}: the unit must be s, m, h or d")),
    };
    n.checked_mul(seconds)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("{text:?} is too long"))
}

/// Where local key versions live.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Key rings")]
pub(crate) struct KeyStoreArgs {
    /// Folder of the local backend's key files (encrypted keystores, one per version); with it,
    /// session tokens come from the rotating key ring in the store.
    #[arg(long, env = "NEST_KEYS_DIR")]
    pub(crate) keys_dir: Option<PathBuf>,
    /// Password of those key files (at least 8 characters).
    #[arg(long, env = "NEST_KEYS_PASSWORD", hide_env_values = true)]
    pub(crate) keys_password: Option<String>,
    /// How long a rotated-out session-token key still verifies (at least the session lifetime).
    #[arg(long, env = "NEST_KEYS_SESSION_OVERLAP", default_value = "1d", value_parser = parse_duration)]
    pub(crate) session_overlap: Duration,
    /// Rotate the session-token key when the active one is this old (e.g. `30d`); the running
    /// api instances do it (one wins, the others see its rotation).
    #[arg(long, env = "NEST_KEYS_ROTATE_SESSION_TOKEN", value_parser = parse_duration)]
    pub(crate) rotate_session_token: Option<Duration>,
}

impl KeyStoreArgs {
    /// The local key store, `None` without `--keys-dir`.
    pub(crate) fn keystore(&self) -> eyre::Result<Option<LocalKeyStore>> {
        let Some(dir) = &self.keys_dir else {
            return Ok(None);
        };
        let Some(password) = self.keys_password.as_ref().filter(|p| !p.is_empty()) else {
            bail!("NEST_KEYS_DIR is set but NEST_KEYS_PASSWORD is not");
        };
        Ok(Some(LocalKeyStore::new(
            dir.clone(),
            SecretString::from(password.clone()),
        )?))
    }

    /// The session-token ring over `store`, refreshed and kept up (retirement when due,
    /// scheduled rotation) as tasks of `tasks`; `None` without `--keys-dir`.
    pub(crate) async fn session_ring(
        &self,
        store: &Store,
        tasks: &Tasks,
    ) -> eyre::Result<Option<Arc<SessionKeyRing>>> {
        let Some(keystore) = self.keystore()? else {
            return Ok(None);
        };
        let ring = SessionKeyRing::open(store.clone(), keystore.clone()).await?;
        info!(version = ?ring.active_version(), "session tokens signed by the key ring");
        let refresher = ring.spawn_refresh(RING_REFRESH);
        let (store, every, overlap) = (
            store.clone(),
            self.rotate_session_token,
            self.session_overlap,
        );
        let stopped = tasks.stopped();
        tasks.spawn("key-ring upkeep", async move {
            tokio::pin!(stopped);
            let mut tick = tokio::time::interval(RING_UPKEEP);
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    _ = tick.tick() => {}
                }
                match nest_keyring::maintain(&store, &keystore, SESSION_TOKEN, every, overlap).await
                {
                    Ok(done) => {
                        for what in done {
                            info!(what, "session-token key ring");
                        }
                    }
                    Err(e) => warn!(error = %e, "session-token key ring upkeep failed"),
                }
            }
            refresher.abort();
            Ok::<(), eyre::Report>(())
        });
        Ok(Some(ring))
    }
}

/// Arguments of `nest keys`.
#[derive(Debug, Args)]
pub(crate) struct KeysArgs {
    #[command(subcommand)]
    command: KeysCommand,
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    keystore: KeyStoreArgs,
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Every version of every key ring, with its state.
    Status,
    /// A new version of PURPOSE becomes active; the active one verifies for the overlap.
    Rotate {
        /// Key purpose (`session-token`).
        purpose: String,
    },
    /// Retire a verify-only VERSION of PURPOSE now (its tokens are refused from then on).
    Retire {
        /// Key purpose (`session-token`).
        purpose: String,
        /// Version number.
        version: i64,
    },
    /// The signing audit: check the hash chain, or print a day's report.
    Audit {
        /// Walk the whole chain and report the first deleted, edited or unlinked entry.
        #[arg(long)]
        verify: bool,
        /// Print the report (Markdown) of key use on this UTC day (`YYYY-MM-DD`).
        #[arg(long)]
        report: Option<String>,
    },
}

const PURPOSES: [&str; 1] = [SESSION_TOKEN];

fn check_purpose(purpose: &str) -> eyre::Result<()> {
    if PURPOSES.contains(&purpose) {
        Ok(())
    } else {
        bail!(
            "unknown key purpose {purpose:?}: expected one of {}",
            PURPOSES.join(", ")
        )
    }
}

fn time(seconds: i64) -> String {
    bson::DateTime::from_millis(seconds.saturating_mul(1000))
        .try_to_rfc3339_string()
        .unwrap_or_else(|_| seconds.to_string())
}

fn describe(v: &KeyVersion) -> String {
    let mut line = format!(
        "  v{:<4} {:<12} {}  {} ({})  created {}",
        v.version,
        v.state.as_str(),
        v.address,
        v.backend,
        v.key_ref,
        time(v.created_at)
    );
    if let Some(until) = v.verify_until {
        line.push_str(&format!("  verifies until {}", time(until)));
    }
    if let Some(at) = v.retired_at {
        line.push_str(&format!("  retired {}", time(at)));
    }
    line
}

pub(crate) async fn run(args: KeysArgs) -> eyre::Result<()> {
    let store = Store::connect(args.store.require()?).await?;
    match args.command {
        KeysCommand::Status => {
            for purpose in PURPOSES {
                let ring = store.key_ring().ring(purpose).await?;
                println!("{purpose}: {} version(s)", ring.len());
                for v in &ring {
                    println!("{}", describe(v));
                }
            }
        }
        KeysCommand::Rotate { purpose } => {
            check_purpose(&purpose)?;
            let Some(keystore) = args.keystore.keystore()? else {
                bail!(
                    "rotation needs the key files' folder: set NEST_KEYS_DIR and NEST_KEYS_PASSWORD"
                );
            };
            let fresh =
                nest_keyring::rotate(&store, &keystore, &purpose, args.keystore.session_overlap)
                    .await
                    .wrap_err("rotation refused")?;
            println!("{purpose}: v{} is active", fresh.version);
            println!("{}", describe(&fresh));
        }
        KeysCommand::Retire { purpose, version } => {
            check_purpose(&purpose)?;
            let retired = nest_keyring::retire(&store, &purpose, version).await?;
            println!("{}", describe(&retired));
        }
        KeysCommand::Audit { verify, report } => {
            if !verify && report.is_none() {
                bail!("say --verify, --report YYYY-MM-DD, or both");
            }
            if verify {
                let (entries, broken) = store.key_ring().verify_audit().await?;
                match broken {
                    None => println!("audit chain intact: {entries} entries"),
                    Some(ChainBreak::Missing { seq }) => {
                        bail!(
                            "audit chain broken: entry {seq} was deleted ({entries} intact before it)"
                        )
                    }
                    Some(ChainBreak::Edited { seq }) => {
                        bail!(
                            "audit chain broken: entry {seq} was edited ({entries} intact before it)"
                        )
                    }
                    Some(ChainBreak::Unlinked { seq }) => bail!(
                        "audit chain broken: entry {seq} does not follow its predecessor ({entries} intact before it)"
                    ),
                }
            }
            if let Some(day) = report {
                print!("{}", daily_report(&store, &day).await?);
            }
        }
    }
    Ok(())
}

/// The Markdown report of key use on UTC day `day` (`YYYY-MM-DD`).
async fn daily_report(store: &Store, day: &str) -> eyre::Result<String> {
    let start = bson::DateTime::parse_rfc3339_str(format!("{day}T00:00:00Z"))
        .map_err(|_| eyre::eyre!("{day:?} is not a day (YYYY-MM-DD)"))?
        .timestamp_millis();
    let entries = store
        .key_ring()
        .audit_between(start, start + 86_400_000)
        .await?;
    let mut counts: std::collections::BTreeMap<
        (String, i64),
        (u64, std::collections::BTreeSet<String>),
    > = Default::default();
    for e in &entries {
        let slot = counts.entry((e.purpose.clone(), e.version)).or_default();
        slot.0 += 1;
        slot.1.insert(e.caller.clone());
    }
    let mut out = format!("# Key use on {day} (UTC)\n\n");
    out.push_str(&format!("{} signatures.\n\n", entries.len()));
    out.push_str(
        "| purpose | version | signatures | distinct callers |\n| --- | --- | --- | --- |\n",
    );
    for ((purpose, version), (n, callers)) in &counts {
        out.push_str(&format!(
            "| {purpose} | v{version} | {n} | {} |\n",
            callers.len()
        ));
    }
    if let (Some(first), Some(last)) = (entries.first(), entries.last()) {
        out.push_str(&format!(
            "\nAudit entries {} to {}; `nest keys audit --verify` checks the chain.\n",
            first.seq, last.seq
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations_need_a_unit_and_a_number() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("30d"), Ok(Duration::from_secs(30 * 86_400)));
        assert_eq!(parse_duration("12h"), Ok(Duration::from_secs(12 * 3_600)));
        assert!(parse_duration("30").is_err());
        assert!(parse_duration("d").is_err());
        assert!(parse_duration("5w").is_err());
        assert!(parse_duration("99999999999999999999d").is_err());
    }
}
