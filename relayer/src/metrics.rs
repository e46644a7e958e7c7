//! Metric names of the relayer (`metrics` crate) and their descriptions. A process that
//! installs a recorder (the api's Prometheus exporter) calls [`describe`] once.

/// Relay requests answered by the intake, by `outcome` (`accepted` or the refusal's code).
pub const INTAKE: &str = "nest_relayer_intake_total";
/// Jobs per state (`state` label), refreshed by the submitter.
pub const JOBS: &str = "nest_relayer_jobs";
/// Job state changes made by the submitter, by the new `state`.
pub const TRANSITIONS: &str = "nest_relayer_job_transitions_total";
/// Jobs waiting for a nonce (state `queued`).
pub const QUEUE_DEPTH: &str = "nest_relayer_queue_depth";
/// Seconds from acceptance to inclusion in a block.
pub const TIME_TO_MINED: &str = "nest_relayer_time_to_mined_seconds";
/// Replacement transactions sent, by `reason` (`stuck`, `gap`, `expired` for no-op fills).
pub const REPLACEMENTS: &str = "nest_relayer_replacements_total";
/// Replacements the fee cap prevented.
pub const FEE_CAP_HITS: &str = "nest_relayer_fee_cap_hits_total";
/// Balance of each relayer account (`signer` label), wei.
pub const SIGNER_BALANCE: &str = "nest_relayer_signer_balance_wei";
/// What one job may cost at the current fee estimate (the intake's gas cap times the max fee),
/// wei: alerts compare balances with 100 of these.
pub const JOB_COST: &str = "nest_relayer_job_cost_wei";
/// Age of the oldest job not yet mined (queued or submitted), seconds; 0 when none.
pub const OLDEST_PENDING: &str = "nest_relayer_oldest_pending_job_seconds";
/// Submitted jobs whose transaction has not changed for [`STUCK_AFTER_SECS`] (among the oldest
/// page of submitted jobs).
pub const STUCK: &str = "nest_relayer_stuck_transactions";
/// Seconds without progress after which a submitted transaction counts as stuck.
pub const STUCK_AFTER_SECS: i64 = 120;
/// 1 while a relayer account is under the low-balance threshold.
pub const SIGNER_LOW_BALANCE: &str = "nest_relayer_signer_low_balance";
/// Transactions of a relayer account in flight (sent, not yet mined).
pub const IN_FLIGHT: &str = "nest_relayer_in_flight";
/// Nonce gaps found (the node's pending nonce below a nonce in flight), by `action`
/// (`rebroadcast`, `replace`).
pub const NONCE_GAPS: &str = "nest_relayer_nonce_gaps_total";
/// 1 while the relayer learns of new heads by WebSocket subscription, 0 while polling.
pub const HEAD_SUBSCRIPTION: &str = "nest_relayer_head_subscription";
/// Failed RPC calls, by `call`.
pub const RPC_ERRORS: &str = "nest_relayer_rpc_errors_total";

/// Registers the descriptions of every relayer metric with the installed recorder.
pub fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        INTAKE,
        "Relay requests answered, by outcome (accepted or refusal code)"
    );
    describe_gauge!(JOBS, "Relay jobs per state");
    describe_counter!(TRANSITIONS, "Relay job state changes, by new state");
    describe_gauge!(QUEUE_DEPTH, "Relay jobs waiting for a relayer nonce");
    describe_histogram!(
        TIME_TO_MINED,
        Unit::Seconds,
        "From acceptance to inclusion in a block"
    );
    describe_counter!(
        REPLACEMENTS,
        "Replacement transactions sent (stuck: fee bump; expired: no-op fill)"
    );
    describe_counter!(FEE_CAP_HITS, "Replacements the fee cap prevented");
    describe_gauge!(SIGNER_BALANCE, "Relayer account balance, wei");
    describe_gauge!(
        JOB_COST,
        "Largest cost of one relay job at the current fee estimate, wei"
    );
    describe_gauge!(
        OLDEST_PENDING,
        Unit::Seconds,
        "Age of the oldest relay job not yet mined"
    );
    describe_gauge!(
        STUCK,
        "Submitted relay transactions without progress for two minutes"
    );
    describe_gauge!(
        SIGNER_LOW_BALANCE,
        "1 while a relayer account is under the low-balance threshold"
    );
    describe_gauge!(
        IN_FLIGHT,
        "Transactions of a relayer account sent and not yet mined"
    );
    describe_counter!(
        NONCE_GAPS,
        "Nonce gaps found at the node, by action (rebroadcast, replace)"
    );
    describe_gauge!(
        HEAD_SUBSCRIPTION,
        "1 while new heads come by WebSocket subscription, 0 while polling"
    );
    describe_counter!(RPC_ERRORS, "Failed RPC calls of the relayer");
}
