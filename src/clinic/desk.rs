//! The front desk (stub).
