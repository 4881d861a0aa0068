//! The minierl runtime (being built).
