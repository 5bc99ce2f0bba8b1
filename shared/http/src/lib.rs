//! The HTTP door of cachewatch: one axum router, hosted by the API function (a Lambda Function
//! URL) and by `cachewatch serve` on one machine.
#![warn(missing_docs)]

pub mod pages;
