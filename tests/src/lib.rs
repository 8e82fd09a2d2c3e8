//! Whole-system tests live in ; this library is empty on purpose.
