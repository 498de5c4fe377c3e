//! TODO calls
