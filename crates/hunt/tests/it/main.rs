//! Integration tests of the hunt crate over the shared data set (`ENTENTE_SHARED`, default
//! `/work/shared`): readers, the maltrail oracle, sightings and warninglists.

mod generated;
mod oracle;
mod readers;
mod sightings;
mod support;
mod warninglists;
