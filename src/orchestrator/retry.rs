//! Retrying provider calls: exponential backoff with jitter, `Retry-After` honoured, a timeout
//! per call and a bound on the whole, and a circuit breaker per provider so a dead provider
//! fails fast with a clear message instead of stalling every order.
//!
//! Only calls the provider did not refuse are retried, always under the same idempotency key:
//! a retry of a call whose answer was lost is how its outcome is looked up.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How hard to try one provider call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Sends at most, first one included.
    pub attempts: u32,
    /// The first backoff; each next one doubles, up to `max_delay`.
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// No retry starts once this much time has gone into the call.
    pub budget: Duration,
    /// A send with no answer after this long counts as an unknown outcome.
    pub call_timeout: Duration,
    /// Consecutive transient failures that open a provider's circuit.
    pub breaker_threshold: u32,
    /// How long an open circuit refuses calls.
    pub breaker_cooldown: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            budget: Duration::from_secs(20),
            call_timeout: Duration::from_secs(30),
            breaker_threshold: 5,
            breaker_cooldown: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The wait before send number `attempt + 1`: the provider's `Retry-After` when it gave one,
    /// otherwise "full jitter" over an exponentially growing ceiling.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(wait) = retry_after {
            return wait.min(self.max_delay);
        }
        let ceiling = self
            .base_delay
            .saturating_mul(1 << attempt.saturating_sub(1).min(16))
            .min(self.max_delay);
        ceiling.mul_f64(jitter())
    }
}

/// A fraction in [0.5, 1): spreads retries without ever retrying at once.
fn jitter() -> f64 {
    let random = uuid::Uuid::new_v4().as_u128() as u64;
    0.5 + (random % 1_000) as f64 / 2_000.0
}

#[derive(Debug, Default)]
struct Breaker {
    consecutive_failures: u32,
    open_until: Option<Instant>,
}

/// One circuit per provider, by name.
#[derive(Debug, Default)]
pub struct CircuitBreakers {
    breakers: Mutex<HashMap<String, Breaker>>,
}

impl CircuitBreakers {
    /// If the provider's circuit is open, how long it stays open.
    pub fn open_for(&self, provider: &str) -> Option<Duration> {
        let breakers = self.breakers.lock().ok()?;
        let until = breakers.get(provider)?.open_until?;
        until.checked_duration_since(Instant::now())
    }

    /// Counts a transient failure (which may open the circuit) or a clear answer (which closes it).
    pub fn record(&self, provider: &str, transient_failure: bool, policy: &RetryPolicy) {
        let Ok(mut breakers) = self.breakers.lock() else {
            return;
        };
        let breaker = breakers.entry(provider.to_string()).or_default();
        if transient_failure {
            breaker.consecutive_failures += 1;
            if breaker.consecutive_failures >= policy.breaker_threshold {
                breaker.open_until = Some(Instant::now() + policy.breaker_cooldown);
                tracing::warn!(
                    provider,
                    "circuit opened after {} failures in a row",
                    breaker.consecutive_failures
                );
            }
        } else {
            *breaker = Breaker::default();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_capped_and_honours_retry_after() {
        let policy = RetryPolicy::default();
        for attempt in 1..=6 {
            let ceiling = (policy.base_delay * 2u32.pow(attempt - 1)).min(policy.max_delay);
            let delay = policy.delay(attempt, None);
            assert!(
                delay >= ceiling / 2 && delay < ceiling,
                "attempt {attempt}: {delay:?} vs {ceiling:?}"
            );
        }
        assert_eq!(
            policy.delay(1, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
        assert_eq!(
            policy.delay(1, Some(Duration::from_secs(600))),
            policy.max_delay
        );
    }

    #[test]
    fn the_circuit_opens_after_repeated_failures_and_a_clear_answer_closes_it() {
        let policy = RetryPolicy {
            breaker_threshold: 3,
            ..RetryPolicy::default()
        };
        let breakers = CircuitBreakers::default();
        for _ in 0..2 {
            breakers.record("duffel", true, &policy);
        }
        assert_eq!(breakers.open_for("duffel"), None);
        breakers.record("duffel", true, &policy);
        assert!(breakers.open_for("duffel").is_some());
        assert_eq!(
            breakers.open_for("stripe"),
            None,
            "circuits are per provider"
        );
        breakers.record("duffel", false, &policy);
        assert_eq!(breakers.open_for("duffel"), None);
    }
}
