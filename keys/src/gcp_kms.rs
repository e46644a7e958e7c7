//! Key versions in Google Cloud KMS (`EC_SIGN_SECP256K1_SHA256`, HSM protection), through
//! alloy's `GcpSigner`. Credentials come from Application Default Credentials.

use crate::{config::GcpKmsConfig, error::Result};
use alloy_signer_gcp::{
    GcpKeyRingRef, GcpSigner, GcpSignerError, KeySpecifier,
    gcloud_sdk::{
        GoogleApi,
        google::cloud::kms::v1::key_management_service_client::KeyManagementServiceClient,
        tonic::Code,
    },
};
use tracing::info;

/// Connects to the key version named in `config` and fetches its public key once.
pub async fn connect(config: &GcpKmsConfig) -> Result<GcpSigner> {
    let version = config.key_version()?;
    let client = GoogleApi::from_function(
        KeyManagementServiceClient::new,
        config.endpoint.clone(),
        None,
    )
    .await
    .map_err(GcpSignerError::from)?;
    let key = KeySpecifier::new(
        GcpKeyRingRef::new(&version.project, &version.location, &version.key_ring),
        &version.key,
        version.version,
    );
    let signer = GcpSigner::new(client, key, None).await?;
    info!(key = %config.key, "Google Cloud KMS key ready");
    Ok(signer)
}

/// True when a Google Cloud KMS failure may go away on retry.
pub(crate) fn is_transient(e: &GcpSignerError) -> bool {
    match e {
        GcpSignerError::RequestError(status) => matches!(
            status.code(),
            Code::Unavailable
                | Code::DeadlineExceeded
                | Code::ResourceExhausted
                | Code::Aborted
                | Code::Internal
        ),
        _ => false,
    }
}
