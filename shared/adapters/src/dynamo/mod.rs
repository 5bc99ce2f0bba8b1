//! The event history in one DynamoDB table.
