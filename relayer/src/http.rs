//! The relayer's HTTP surface, as an axum router the api mounts (or `nest relayer --listen`
//! serves alone):
//!
//! - `POST /v1/relay`: a relay request (see [`crate::request`]); `202 Accepted` with
//!   `{"id", "status", "statusUrl"}` once the job is stored.
//! - `GET /v1/relay/{id}`: the job: state, every transaction hash tried, the receipt summary.
//!
//! Errors are RFC 9457 problem documents ([`nest_http::Problem`], `application/problem+json`):
//! `{"type", "title", "status", "detail", "code", "requestId"}`, with `Retry-After` on 429 and
//! 503. The body must be sent as `application/json` (415 otherwise).

use crate::{error::RelayerError, intake::RelayIntake};
use axum::{
    Json, Router,
    body::Bytes,
    extract::{DefaultBodyLimit, Path, State, rejection::BytesRejection},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use nest_store::{RelayJob, RelayJobKind, RelayJobStatus};
use serde::Serialize;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

pub use nest_http::{BODY_LIMIT, Problem};

/// The relayer's routes over `intake`. Requests without an `x-request-id` get one (the api's,
/// when it mounts these routes, is kept), and every problem names it.
pub fn router(intake: RelayIntake) -> Router {
    Router::new()
        .route("/v1/relay", post(submit))
        .route("/v1/relay/{id}", get(status))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(PropagateRequestIdLayer::new(nest_http::REQUEST_ID))
        .layer(SetRequestIdLayer::new(
            nest_http::REQUEST_ID,
            MakeRequestUuid,
        ))
        .with_state(intake)
}

/// The OpenAPI description of [`router`]'s paths (the api merges it into its document).
pub fn openapi() -> utoipa::openapi::OpenApi {
    use utoipa::OpenApi;
    RelayDoc::openapi()
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(submit, status),
    components(schemas(Problem, crate::request::RelayRequestSchema, AcceptedBody, JobView, ReceiptView)),
    tags((name = "relay", description = "Gasless transactions: the user signs, the relayer pays"))
)]
struct RelayDoc;

/// The problem document for `error`, answering the request with id `request_id`.
pub fn problem_of(error: &RelayerError, request_id: Option<String>) -> Problem {
    let mut problem = Problem::new(
        error.status().as_u16(),
        error.code(),
        error.title(),
        &error.detail(),
    );
    problem.request_id = request_id;
    problem
}

impl RelayerError {
    /// The problem response for this error, answering the request with `headers`.
    pub fn into_problem_response(self, headers: &HeaderMap) -> Response {
        let problem = problem_of(&self, Problem::request_id_of(headers));
        problem.into_response_with(self.retry_after().map(|d| d.as_secs()))
    }
}

/// `202` answer of `POST /v1/relay`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct AcceptedBody {
    /// The job id.
    id: String,
    /// `queued`.
    #[schema(value_type = String)]
    status: RelayJobStatus,
    /// Where to follow the job.
    status_url: String,
}

/// `POST /v1/relay`: takes a signed request and queues it.
#[utoipa::path(post, path = "/v1/relay", tag = "relay",
    request_body(content = crate::request::RelayRequestSchema, content_type = "application/json"),
    responses(
        (status = 202, description = "Accepted and stored; follow it at `statusUrl`", body = AcceptedBody),
        (status = 400, description = "Malformed, bad signature or signed for another chain", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not sponsored: target, value, gas or call data", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Wrong nonce, nonce used by another request, or already accepted", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than 64 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Deadline too close, or the call would revert", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Over the signer's quota", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 500, description = "The relayer is misconfigured", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The relayer cannot take requests now", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
async fn submit(
    State(intake): State<RelayIntake>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let outcome = if !nest_http::is_json_content_type(&headers) {
        Err(RelayerError::UnsupportedMediaType)
    } else {
        match body {
            Ok(body) => intake.submit(&body).await,
            Err(rejection) => Err(if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                RelayerError::BodyTooLarge { limit: BODY_LIMIT }
            } else {
                RelayerError::Malformed(rejection.body_text())
            }),
        }
    };
    match outcome {
        Ok(accepted) => (
            StatusCode::ACCEPTED,
            Json(AcceptedBody {
                status_url: format!("/v1/relay/{}", accepted.id),
                id: accepted.id,
                status: accepted.status,
            }),
        )
            .into_response(),
        Err(e) => {
            if matches!(
                e,
                RelayerError::UnsupportedMediaType | RelayerError::BodyTooLarge { .. }
            ) {
                metrics::counter!(crate::metrics::INTAKE, "outcome" => e.code()).increment(1);
            }
            e.into_problem_response(&headers)
        }
    }
}

/// A job as `GET /v1/relay/{id}` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobView {
    /// Job id.
    pub id: String,
    /// `forward`, `vote`, `delegate` or `governance`.
    #[schema(value_type = String)]
    pub kind: RelayJobKind,
    /// State: `queued`, `submitted`, `mined`, `confirmed`, `failed` or `expired`.
    #[schema(value_type = String)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
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

/// `GET /v1/relay/{id}`: a job's state, its transactions and receipt.
#[utoipa::path(get, path = "/v1/relay/{id}", tag = "relay",
    params(("id" = String, Path, description = "Job id")),
    responses(
        (status = 200, description = "The job", body = JobView),
        (status = 404, description = "No job with this id", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The store is unreachable", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
async fn status(
    State(intake): State<RelayIntake>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return RelayerError::NotFound(id.chars().take(64).collect())
            .into_problem_response(&headers);
    }
    match intake.job(&id).await {
        Ok(job) => Json(JobView::from(job)).into_response(),
        Err(e) => e.into_problem_response(&headers),
    }
}
