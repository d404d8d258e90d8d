//! State (in progress).
