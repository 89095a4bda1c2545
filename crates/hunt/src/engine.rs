//! The seam between a hunt and pattern semantics.
//!
//! [`Engine`] is what [`crate::hunt::Hunter`] asks for each event: which indicators match,
//! with the matcher's [`matcher::Binding`] for each. The pattern semantics stay in the
//! `matcher` crate; an engine only decides which indicators to evaluate.
//!
//! [`EachIndicator`] evaluates every indicator valid at the event's time with the
//! single-pattern evaluator: correct by construction, but its cost per event grows with the
//! number of indicators. The compiled multi-indicator matcher (`matcher::compiled`, issue 4
//! item 1) will implement this trait with indexes whose cost does not; swapping it in is
//! the one line in `entente hunt` that builds the engine.

use matcher::{Binding, Observations};

use crate::event::Event;
use crate::indicators::Indicator;

/// One indicator that matched one event.
#[derive(Debug, Clone)]
pub struct Hit {
    /// Index of the indicator in [`Engine::indicators`].
    pub indicator: usize,
    /// Which observation satisfied which observation expression.
    pub binding: Binding,
}

/// An evaluation that failed (the answer is unknown, not "no match").
#[derive(Debug, Clone)]
pub struct EvalFailure {
    /// Index of the indicator in [`Engine::indicators`].
    pub indicator: usize,
    /// Why.
    pub error: matcher::Error,
}

/// Matches events against a set of indicators.
pub trait Engine {
    /// The indicators, indexed as [`Hit::indicator`] refers to them.
    fn indicators(&self) -> &[Indicator];

    /// Appends the indicators that match `event` (whose matcher model is `observations`) to
    /// `hits`, and the evaluations that failed to `failures`.
    fn matches(
        &self,
        event: &Event,
        observations: &Observations<'_>,
        hits: &mut Vec<Hit>,
        failures: &mut Vec<EvalFailure>,
    );
}

/// Every indicator through the single-pattern evaluator (see the module docs).
#[derive(Debug)]
pub struct EachIndicator {
    indicators: Vec<Indicator>,
}

impl EachIndicator {
    /// An engine over `indicators`.
    pub fn new(indicators: Vec<Indicator>) -> Self {
        EachIndicator { indicators }
    }
}

impl Engine for EachIndicator {
    fn indicators(&self) -> &[Indicator] {
        &self.indicators
    }

    fn matches(
        &self,
        event: &Event,
        observations: &Observations<'_>,
        hits: &mut Vec<Hit>,
        failures: &mut Vec<EvalFailure>,
    ) {
        for (i, ind) in self.indicators.iter().enumerate() {
            if !ind.valid_at(event.time) {
                continue;
            }
            match ind.compiled.evaluate(observations) {
                Ok(Some(binding)) => hits.push(Hit {
                    indicator: i,
                    binding,
                }),
                Ok(None) => {}
                Err(error) => failures.push(EvalFailure {
                    indicator: i,
                    error,
                }),
            }
        }
    }
}
