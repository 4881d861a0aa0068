//! minierl compiler (being built).
