//! The hunt crate's one error type.
//!
//! Only failures that stop a whole input (or the whole hunt) are errors; a malformed line is
//! not one of them: readers report it as a [`crate::reader::BadLine`] and go on.

use std::path::PathBuf;

/// Everything that can stop reading an input or loading indicators and warninglists.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be opened or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The input's format could not be told from its content and no mapping was given.
    #[error(
        "{}: cannot tell the format from the content (not Zeek, EVE or STIX); give --format and --mapping",
        path.display()
    )]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// The format `ndjson` needs a mapping file.
    #[error("{}: format ndjson needs a mapping file", path.display())]
    MappingRequired {
        /// The file.
        path: PathBuf,
    },
    /// A mapping file is not valid.
    #[error("mapping {}: {message}", path.display())]
    Mapping {
        /// The mapping file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The indicator source is not a STIX document.
    #[error("indicators {source_name}: {message}")]
    Indicators {
        /// The file or URL.
        source_name: String,
        /// What is wrong.
        message: String,
    },
    /// A warninglist file is not valid.
    #[error("warninglist {}: {message}", path.display())]
    Warninglist {
        /// The list file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Writing an output failed.
    #[error("writing {what}: {source}")]
    Output {
        /// Which output.
        what: &'static str,
        /// The underlying error.
        source: std::io::Error,
    },
}
