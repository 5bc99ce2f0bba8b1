//! A local stand-in for the ElastiCache operations moto lacks.
