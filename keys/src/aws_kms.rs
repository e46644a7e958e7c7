//! Keys in AWS KMS (`ECC_SECG_P256K1`, `SIGN_VERIFY`), through alloy's `AwsSigner`.
//!
//! The client is built here so the endpoint is configurable (LocalStack in tests, a VPC endpoint
//! in production) and calls are bounded in time. Credentials and, unless configured, the region
//! come from the standard AWS chain.

use crate::{
    config::AwsKmsConfig,
    error::{KeyError, Result},
};
use alloy_signer_aws::{AwsSigner, AwsSignerError};
use aws_config::{BehaviorVersion, ConfigLoader, Region, timeout::TimeoutConfig};
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use std::time::Duration;
use tracing::info;

/// Bound on one attempt of a KMS call (the SDK retries transient failures within it).
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// Bound on a KMS call including retries.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(15);
/// Bound on opening a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Service error codes after which a retry may succeed.
const TRANSIENT_CODES: [&str; 4] = [
    "ThrottlingException",
    "KMSInternalException",
    "DependencyTimeoutException",
    "KeyUnavailableException",
];

/// Connects to the key with the standard AWS configuration chain.
pub async fn connect(config: &AwsKmsConfig) -> Result<AwsSigner> {
    connect_with(config, aws_config::defaults(BehaviorVersion::latest())).await
}

/// Connects to the key with `loader` (e.g. with explicit credentials), after applying the
/// configured endpoint and region and Nest's timeouts. Fetches the public key once.
pub async fn connect_with(config: &AwsKmsConfig, loader: ConfigLoader) -> Result<AwsSigner> {
    config.validate()?;
    let mut loader = loader.timeout_config(
        TimeoutConfig::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .operation_attempt_timeout(ATTEMPT_TIMEOUT)
            .operation_timeout(OPERATION_TIMEOUT)
            .build(),
    );
    if let Some(endpoint) = &config.endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    if let Some(region) = &config.region {
        loader = loader.region(Region::new(region.clone()));
    }
    let sdk = loader.load().await;
    if sdk.region().is_none() {
        return Err(KeyError::Config(
            "aws-kms: no AWS region: set NEST_AWS_KMS_REGION or AWS_REGION".into(),
        ));
    }
    let client = aws_sdk_kms::Client::new(&sdk);
    let signer = AwsSigner::new(client, config.key_id.clone(), None).await?;
    info!(key_id = %config.key_id, endpoint = config.endpoint.as_deref().unwrap_or("default"), "AWS KMS key ready");
    Ok(signer)
}

/// True when an AWS KMS failure may go away on retry: timeouts, connection failures,
/// unparseable responses, throttling and KMS-side errors (HTTP 5xx, 429).
pub(crate) fn is_transient(e: &AwsSignerError) -> bool {
    match e {
        AwsSignerError::Sign(e) => sdk_transient(e),
        AwsSignerError::GetPublicKey(e) => sdk_transient(e),
        _ => false,
    }
}

fn sdk_transient<E: ProvideErrorMetadata>(
    e: &SdkError<E, aws_sdk_kms::config::http::HttpResponse>,
) -> bool {
    match e {
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => true,
        SdkError::DispatchFailure(failure) => failure.is_io() || failure.is_timeout(),
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            status >= 500
                || status == 429
                || service
                    .err()
                    .code()
                    .is_some_and(|code| TRANSIENT_CODES.contains(&code))
        }
        _ => false,
    }
}
