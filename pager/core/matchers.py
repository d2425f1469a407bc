"""Alertmanager label matchers: moved to :mod:`pager.labels` (a leaf package).

The names other modules imported from here stay, re-exported, until they move.
"""

from pager.labels import Matcher, MatcherError, MatchOp, matches_all, parse_matcher

__all__ = ["MatchOp", "Matcher", "MatcherError", "matches_all", "parse_matcher"]
