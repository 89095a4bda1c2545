//! Being built: see the server issue.
