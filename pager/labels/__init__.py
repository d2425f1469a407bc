"""Alertmanager's label matchers on RE2: parsing, matching, regexes. Imports nothing of pager.

`parse_matchers` reads matcher text as Alertmanager 0.27 and later do by
default (:mod:`pager.labels.parse`), `Matcher.matches` matches as Alertmanager
matches (:mod:`pager.labels.matcher`), on Google's RE2 (:mod:`pager.labels.regex`).
"""

from pager.labels.matcher import (
    AmbiguousMatcherError,
    Matcher,
    MatcherError,
    MatchOp,
    matches_all,
)
from pager.labels.parse import Parsed, parse_matcher, parse_matchers, parse_stored
from pager.labels.regex import ENGINE

__all__ = [
    "ENGINE",
    "AmbiguousMatcherError",
    "MatchOp",
    "Matcher",
    "MatcherError",
    "Parsed",
    "matches_all",
    "parse_matcher",
    "parse_matchers",
    "parse_stored",
]
