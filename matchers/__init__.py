"""Matchers: decide whether a text names the brand, and where."""

from __future__ import annotations

from matchers.base import Matcher, MatchResult, Rule, Span
from matchers.brand import BrandMatcher

__all__ = ["BrandMatcher", "MatchResult", "Matcher", "Rule", "Span"]
