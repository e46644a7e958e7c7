//! The relayer's HTTP surface, as an axum router the api mounts (or `nest relayer --listen`
//! serves alone):
//!
//! - `POST /v1/relay`: a relay request (see [`crate::request`]); `202 Accepted` with
//!   `{"id", "status", "statusUrl"}` once the job is stored.
//! - `GET /v1/relay/{id}`: the job: state, every transaction hash tried, the receipt summary.
//!
//! Errors are RFC 9457 problem documents (`application/problem+json`):
//! `{"type", "title", "status", "detail", "code"}`, with `Retry-After` on 429 and 503.

use crate::{error::RelayerError, intake::RelayIntake};
use axum::{
    Json, Router,
    body::Bytes,
    extract::{DefaultBodyLimit, Path, State, rejection::BytesRejection},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use nest_store::{RelayJob, RelayJobKind, RelayJobStatus};
use serde::Serialize;

/// Largest request body, bytes.
pub const BODY_LIMIT: usize = 64 * 1024;

/// The relayer's routes over `intake`.
pub fn router(intake: RelayIntake) -> Router {
    Router::new()
        .route("/v1/relay", post(submit))
        .route("/v1/relay/{id}", get(status))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(intake)
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Problem {
    /// URI naming the problem type (`urn:nest:problem:<code>`).
    #[serde(rename = "type")]
    pub type_: String,
    /// Short English summary of the type.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// English explanation of this occurrence.
    pub detail: String,
    /// Stable machine code (`relay.*`).
    pub code: String,
}

impl Problem {
    /// The problem document for an error.
    pub fn from_error(error: &RelayerError) -> Self {
        Self {
            type_: format!("urn:nest:problem:{}", error.code()),
            title: error.title().to_string(),
            status: error.status().as_u16(),
            detail: error.detail(),
            code: error.code().to_string(),
        }
    }
}

impl IntoResponse for RelayerError {
    fn into_response(self) -> Response {
        problem_response(
            self.status(),
            Problem::from_error(&self),
            self.retry_after(),
        )
    }
}

fn problem_response(
    status: StatusCode,
    problem: Problem,
    retry_after: Option<std::time::Duration>,
) -> Response {
    let mut response = (status, Json(problem)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    if let Some(after) = retry_after
        && let Ok(value) = HeaderValue::from_str(&after.as_secs().max(1).to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// `202` answer of `POST /v1/relay`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct AcceptedBody {
    id: String,
    status: RelayJobStatus,
    status_url: String,
}

async fn submit(
    State(intake): State<RelayIntake>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            let status = rejection.status();
            let error = RelayerError::Malformed(if status == StatusCode::PAYLOAD_TOO_LARGE {
                format!("the body is larger than {BODY_LIMIT} bytes")
            } else {
                rejection.body_text()
            });
            let mut problem = Problem::from_error(&error);
            problem.status = status.as_u16();
            metrics::counter!(crate::metrics::INTAKE, "outcome" => error.code()).increment(1);
            return problem_response(status, problem, None);
        }
    };
    match intake.submit(&body).await {
        Ok(accepted) => (
            StatusCode::ACCEPTED,
            Json(AcceptedBody {
                status_url: format!("/v1/relay/{}", accepted.id),
                id: accepted.id,
                status: accepted.status,
            }),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

/// A job as `GET /v1/relay/{id}` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobView {
    /// Job id.
    pub id: String,
    /// `forward`, `vote` or `delegate`.
    pub kind: RelayJobKind,
    /// State.
    pub status: RelayJobStatus,
    /// Chain id.
    pub chain_id: i64,
    /// The signer of the request.
    pub from: String,
    /// The called contract.
    pub to: String,
    /// The request's nonce.
    pub nonce: String,
    /// Deadline, unix seconds.
    pub deadline: i64,
    /// The relayer account sending it.
    pub relayer: Option<String>,
    /// The relayer account's nonce used for it.
    pub relayer_nonce: Option<i64>,
    /// Every transaction hash tried, oldest first.
    pub tx_hashes: Vec<String>,
    /// The mined transaction and its receipt.
    pub receipt: Option<ReceiptView>,
    /// Why it failed or expired.
    pub error: Option<String>,
    /// Accepted at (RFC 3339).
    pub created_at: String,
    /// Last change (RFC 3339).
    pub updated_at: String,
}

/// The receipt of a mined job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptView {
    /// Transaction hash.
    pub tx_hash: String,
    /// Block number.
    pub block_number: i64,
    /// Block hash.
    pub block_hash: String,
    /// True when it succeeded.
    pub success: bool,
    /// Gas used.
    pub gas_used: i64,
    /// Price paid per gas, wei.
    pub effective_gas_price: String,
    /// True when the mined transaction was the no-op that filled the nonce of an expired job.
    pub noop: bool,
}

impl From<RelayJob> for JobView {
    fn from(job: RelayJob) -> Self {
        let receipt = match (&job.mined_tx, job.mined_block, &job.receipt) {
            (Some(tx), Some(block), Some(r)) => Some(ReceiptView {
                tx_hash: tx.clone(),
                block_number: block,
                block_hash: format!("{:#x}", r.block_hash),
                success: r.success,
                gas_used: r.gas_used,
                effective_gas_price: r.effective_gas_price.to_string(),
                noop: r.noop,
            }),
            _ => None,
        };
        let time = |t: bson::DateTime| t.try_to_rfc3339_string().unwrap_or_default();
        Self {
            id: job.id,
            kind: job.kind,
            status: job.status,
            chain_id: job.chain_id,
            from: job.from.to_string(),
            to: job.to.to_string(),
            nonce: job.nonce.to_string(),
            deadline: job.deadline,
            relayer: job.signer.map(|s| s.to_string()),
            relayer_nonce: job.signer_nonce,
            tx_hashes: job.tx_hashes,
            receipt,
            error: job.error,
            created_at: time(job.created_at),
            updated_at: time(job.updated_at),
        }
    }
}

async fn status(State(intake): State<RelayIntake>, Path(id): Path<String>) -> Response {
    if id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return RelayerError::NotFound(id.chars().take(64).collect()).into_response();
    }
    match intake.job(&id).await {
        Ok(job) => Json(JobView::from(job)).into_response(),
        Err(e) => e.into_response(),
    }
}
