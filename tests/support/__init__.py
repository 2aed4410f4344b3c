"""Helpers shared by the test suites: an in-memory engine, a test-only server entry point."""
