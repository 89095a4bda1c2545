//! Integration tests of the store: the backend-agnostic contract suite and the backends it
//! runs on (one test binary, STYLE.md convention 5).

mod contract;
mod log;
mod postgres;
mod sqlite;
