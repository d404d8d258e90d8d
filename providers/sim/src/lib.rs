//! Simulated clouds (in progress).
