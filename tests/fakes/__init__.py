"""In-repo fakes of external services (fakes over mocks)."""
