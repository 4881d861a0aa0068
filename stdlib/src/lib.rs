//! The standard library (being built).
