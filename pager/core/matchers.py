"""Alertmanager label matchers: moved to :mod:`pager.labels` (a leaf package).

This module re-exports them so that callers can move at their own pace.
"""

from pager.labels import (
    AmbiguousMatcherError,
    Matcher,
    MatcherError,
    MatchOp,
    Parsed,
    matches_all,
    parse_matcher,
    parse_matchers,
)

__all__ = [
    "AmbiguousMatcherError",
    "MatchOp",
    "Matcher",
    "MatcherError",
    "Parsed",
    "matches_all",
    "parse_matcher",
    "parse_matchers",
]
