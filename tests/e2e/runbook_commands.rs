//! Every command in every rendered runbook is one the real tools accept.
