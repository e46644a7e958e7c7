//! One signature's latency with each backend, and its ratio to the local key in the same run:
//! a local key, a key in SoftHSM2 over PKCS#11 and, with the `aws-kms` feature, a key in
//! LocalStack's KMS over HTTP. Each signs digests one after another (after a short warm-up);
//! the table goes to stdout.
//!
//! `cargo bench -p nest-keys --bench signers` (add `--features aws-kms` for the KMS row).

use alloy::{primitives::keccak256, signers::local::PrivateKeySigner};
use nest_keys::{NestSigner, SignerConfig, generate_secp256k1_key, testing::SoftHsm};
use std::time::{Duration, Instant};

type BenchResult<T> = Result<T, Box<dyn std::error::Error>>;

const WARM_UP: u32 = 5;

struct Latency {
    backend: &'static str,
    signatures: u32,
    median: Duration,
    p95: Duration,
    mean: Duration,
}

async fn measure(signer: &NestSigner, signatures: u32) -> BenchResult<Latency> {
    for n in 0..WARM_UP {
        signer.sign_digest(&keccak256(n.to_le_bytes())).await?;
    }
    let mut samples = Vec::with_capacity(signatures as usize);
    for n in 0..signatures {
        let digest = keccak256((n + WARM_UP).to_le_bytes());
        let started = Instant::now();
        let signature = signer.sign_digest(&digest).await?;
        samples.push(started.elapsed());
        // Not timed: a wrong signature would make the numbers meaningless.
        if signature.recover_address_from_prehash(&digest)? != signer.address() {
            return Err(format!("{}: signature does not recover", signer.backend_name()).into());
        }
    }
    samples.sort();
    let total: Duration = samples.iter().sum();
    Ok(Latency {
        backend: signer.backend_name(),
        signatures,
        median: samples[samples.len() / 2],
        p95: samples[samples.len() * 95 / 100],
        mean: total / signatures,
    })
}

fn main() -> BenchResult<()> {
    // SAFETY: no other thread exists yet.
    let hsm = unsafe { SoftHsm::process_wide() }?;
    hsm.init_token("bench", "bench-pin")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut results = Vec::new();

        let local = NestSigner::from_local(PrivateKeySigner::random());
        results.push(measure(&local, 2_000).await?);

        let config = hsm.config("bench", "bench-pin", "bench-key");
        generate_secp256k1_key(&config).await?;
        let pkcs11 = NestSigner::from_config(&SignerConfig::Pkcs11(config)).await?;
        results.push(measure(&pkcs11, 500).await?);

        #[cfg(feature = "aws-kms")]
        {
            let kms =
                tokio::task::spawn_blocking(nest_keys::testing::LocalStackKms::shared).await??;
            let key_id = kms.create_secp256k1_key().await?;
            let signer =
                nest_keys::aws_kms::connect_with(&kms.config(&key_id), kms.loader()).await?;
            results.push(measure(&NestSigner::from_aws(signer), 100).await?);
        }

        let local_median = results[0].median.as_secs_f64();
        println!(
            "{:<10} {:>10} {:>12} {:>12} {:>12} {:>16}",
            "backend", "signatures", "median", "p95", "mean", "median / local"
        );
        for r in &results {
            println!(
                "{:<10} {:>10} {:>12} {:>12} {:>12} {:>15.1}x",
                r.backend,
                r.signatures,
                format!("{:.1} µs", r.median.as_secs_f64() * 1e6),
                format!("{:.1} µs", r.p95.as_secs_f64() * 1e6),
                format!("{:.1} µs", r.mean.as_secs_f64() * 1e6),
                r.median.as_secs_f64() / local_median
            );
        }
        #[cfg(not(feature = "aws-kms"))]
        eprintln!("(aws-kms row skipped: build with --features aws-kms)");
        Ok(())
    })
}
