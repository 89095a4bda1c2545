//! Focused semantic tests, each citing the rule it pins.
