//! Placeholder until the function is wired.
fn main() {}
