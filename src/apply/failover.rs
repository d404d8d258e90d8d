//! Capacity failover at apply: a create tries its choices in the plan's order. A choice the
//! cloud refuses for lack of capacity (or quota, when the block says so) is recorded as not
//! created and the next is tried; one the cloud accepted and then failed (a node group
//! that could not get its instances) is in state as tainted until it is deleted, so nothing
//! a failed attempt made is left behind or forgotten. With a deadline
//! (`wait_for_capacity`, `--wait-for-capacity`), rounds repeat with a doubling pause.
//!
//! Each attempt is its own create with its own intent and token, carrying the choice it
//! tries: a crash in the middle leaves at most one pending intent, which the next run
//! resolves (adopts, with its placement, or records as not created) before planning.

use super::executor::Event;
use super::operation::{
    create_once, delete_attempt, failure, CreateOutcome, StepInputs, StepResult,
};
use crate::diagnostics::Diagnostic;
use crate::plan::failover::{choice_name, FailoverPlan};
use crate::plan::ResourceChange;
use crate::state::Placement;
use gantry_provider::{ErrorClass, ProviderError, Value};
use std::time::{Duration, Instant};

/// The longest pause between rounds of waiting for capacity.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// One failover choice, ready to send.
#[derive(Clone)]
pub struct PreparedChoice {
    /// 0: as written; `n`: the `n`th alternative.
    pub alternative: usize,
    pub label: String,
    /// The region the provider places it in, for reports.
    pub location: Option<String>,
    /// What state records when it holds.
    pub placement: Placement,
    pub planned: Value,
    /// The provider configuration it is created with: the resource's, or the one the
    /// alternative names.
    pub provider_key: String,
    pub provider: std::sync::Arc<dyn gantry_provider::Provider>,
}

/// A refused attempt, for the final error.
struct Refusal {
    alternative: usize,
    label: String,
    error: ProviderError,
}

/// A create's failover: the plan's choices, completed and planned for apply.
#[derive(Clone)]
pub struct PreparedFailover {
    pub plan: FailoverPlan,
    /// In the order to try them.
    pub choices: Vec<PreparedChoice>,
}

/// Creates `change`, trying each choice in turn.
pub async fn create_with_failover(
    s: &StepInputs<'_, '_>,
    change: &ResourceChange,
    failover: &PreparedFailover,
) -> StepResult {
    let plan = &failover.plan;
    let deadline = plan.wait_for_capacity.map(|d| Instant::now() + d);
    let triggers = |class: ErrorClass| plan.triggers(class);
    // The refusals of the latest round (what the final error lists), and how many in all.
    let mut refusals: Vec<Refusal> = Vec::new();
    let mut refused_in_all = 0;
    let mut round: u32 = 0;
    loop {
        refusals.clear();
        for choice in &failover.choices {
            let mut attempt = change.clone();
            attempt.placement = Some(choice.placement.clone());
            attempt.provider.clone_from(&choice.provider_key);
            // Sent, recorded and limited as the choice's provider configuration.
            let s = &StepInputs {
                io: s.io,
                calls: s.calls,
                provider: choice.provider.clone(),
                planned: None,
                failover: None,
                secrets: s.secrets,
            };
            let error = match create_once(s, &attempt, &choice.planned, Some(&triggers)).await {
                CreateOutcome::Done(result) => {
                    if result.is_ok() && refused_in_all > 0 {
                        (s.io.events)(Event::FailoverHeld {
                            address: change.address.clone(),
                            alternative: choice.alternative,
                            label: choice.label.clone(),
                            refused: refused_in_all,
                        });
                    }
                    return result;
                }
                CreateOutcome::Refused(e) => {
                    report_refusal(s, change, choice, &e);
                    e
                }
                CreateOutcome::Accepted(object, e) => {
                    report_refusal(s, change, choice, &e);
                    // Made and failed: delete it before trying elsewhere, so no attempt is
                    // left behind (it is in state as tainted until then).
                    delete_attempt(s, &attempt, &object).await?;
                    e
                }
            };
            refusals.push(Refusal {
                alternative: choice.alternative,
                label: choice.label.clone(),
                error,
            });
            refused_in_all += 1;
            if s.io.cancel.is_cancelled() {
                return Err(all_refused(s, change, &refusals, round, false));
            }
        }
        let now = Instant::now();
        let Some(left) = deadline.and_then(|d| d.checked_duration_since(now)) else {
            return Err(all_refused(s, change, &refusals, round, deadline.is_some()));
        };
        let wait = backoff(s.io.options.capacity_backoff, round).min(left);
        round += 1;
        (s.io.events)(Event::WaitingForCapacity {
            address: change.address.clone(),
            round,
            wait,
        });
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = s.io.cancel.cancelled() => return Err(all_refused(s, change, &refusals, round, false)),
        }
    }
}

/// The pause before round `round + 1`: the base, doubled each round, at most 5 minutes.
pub fn backoff(base: Duration, round: u32) -> Duration {
    base.saturating_mul(1 << round.min(16)).min(MAX_BACKOFF)
}

fn report_refusal(
    s: &StepInputs<'_, '_>,
    change: &ResourceChange,
    choice: &PreparedChoice,
    e: &ProviderError,
) {
    (s.io.events)(Event::FailoverRefused {
        address: change.address.clone(),
        alternative: choice.alternative,
        label: choice.label.clone(),
        class: e.class.as_str().to_owned(),
        code: e.code.clone(),
        error: crate::ui::redact::scrub(&e.message, s.secrets),
        location: choice.location.clone(),
    });
}

/// Every choice refused: the error names each attempt and what the cloud said.
fn all_refused(
    s: &StepInputs<'_, '_>,
    change: &ResourceChange,
    refusals: &[Refusal],
    rounds_waited: u32,
    waited: bool,
) -> Diagnostic {
    let Some(last) = refusals.last() else {
        return Diagnostic::error(format!("failed to create `{}`", change.address));
    };
    let mut d = failure(s, change, "create", &last.error);
    let rounds = match rounds_waited {
        0 => String::new(),
        n => format!(", in each of {} rounds", n + 1),
    };
    d.summary = if refusals.len() == 1 {
        format!("failed to create `{}`{rounds}", change.address)
    } else {
        format!(
            "failed to create `{}`: all {} failover attempts were refused{rounds}",
            change.address,
            refusals.len()
        )
    };
    let tried: Vec<String> = refusals
        .iter()
        .map(|r| {
            format!(
                "{}: {}{}",
                choice_name(r.alternative, &r.label),
                r.error
                    .code
                    .as_deref()
                    .map(|c| format!("{c}: "))
                    .unwrap_or_default(),
                crate::ui::redact::scrub(&r.error.message, s.secrets)
            )
        })
        .collect();
    d = d.with_detail(format!("tried:\n  {}", tried.join("\n  ")));
    if waited {
        d.with_help("no capacity came free before the deadline; wait longer (`--wait-for-capacity`), or add alternatives in other zones, regions or instance types")
    } else {
        d.with_help("add alternatives in other zones, regions or instance types to the `failover` block, or queue with `--wait-for-capacity 2h`")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pause_doubles_to_a_ceiling() {
        let base = Duration::from_secs(30);
        assert_eq!(backoff(base, 0), Duration::from_secs(30));
        assert_eq!(backoff(base, 1), Duration::from_secs(60));
        assert_eq!(backoff(base, 3), Duration::from_secs(240));
        assert_eq!(backoff(base, 4), MAX_BACKOFF);
        assert_eq!(backoff(base, 40), MAX_BACKOFF);
    }
}
