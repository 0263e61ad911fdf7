"""The disclosure policy: which counts are hidden, and whether the others are rounded."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

__all__ = ["DisclosurePolicy"]

RULES = ("suppress", "round")


@dataclass(frozen=True)
class DisclosurePolicy:
    """How counts are protected; one per evidence pack (the area TOML can set every field).

    Parameters
    ----------
    rule : ``"suppress"`` hides counts from ``min_count`` to ``threshold`` (1 to 4 by default) and the
        cells needed to protect them, and shows the others exactly. ``"round"`` hides counts from
        ``min_count`` to ``threshold`` (1 to 7 by default for this rule) the same way, then rounds every visible
        count to the nearest ``round_to`` (5).
    threshold : the largest count hidden. ``None`` means 4 for "suppress" and 7 for "round".
    min_count : the smallest count hidden: 1 shows zeros, 0 hides them too.
    round_to : rounding base for the "round" rule (ignored by "suppress").
    symbol : what a hidden cell shows.
    require_strong : secondary suppression goes on until no attacker can rule out a count above
        ``threshold`` (see :func:`victimneeds.disclosure.attack.rate`); False stops at "at least two possible
        values".

    Examples
    --------
    >>> DisclosurePolicy().range, DisclosurePolicy(rule="round").range
    ((1, 4), (1, 7))
    >>> DisclosurePolicy.from_mapping({"rule": "round", "round_to": 10}).round_to
    10
    """

    rule: str = "suppress"
    threshold: int | None = None
    min_count: int = 1
    round_to: int = 5
    symbol: str = "[c]"
    require_strong: bool = True

    def __post_init__(self) -> None:
        if self.rule not in RULES:
            raise ValueError(f"disclosure rule must be one of {RULES}; got {self.rule!r}")
        if self.threshold is None:
            object.__setattr__(self, "threshold", 4 if self.rule == "suppress" else 7)
        if self.min_count < 0 or self.threshold < self.min_count:
            raise ValueError(
                f"disclosure threshold must satisfy 0 <= min_count <= threshold; got min_count={self.min_count}, "
                f"threshold={self.threshold}"
            )
        if self.rule == "round" and self.round_to < 1:
            raise ValueError(f"round_to must be a positive whole number; got {self.round_to}")

    @property
    def range(self) -> tuple[int, int]:
        """(smallest, largest) count hidden."""
        return (int(self.min_count), int(self.threshold))

    @property
    def rounding(self) -> int | None:
        """The rounding base, or None when counts are shown exactly."""
        return int(self.round_to) if self.rule == "round" else None

    @property
    def hidden_lower_bound(self) -> int:
        """What a hidden cell is known to be at least: 1 when zeros are shown, else 0."""
        return 1 if self.min_count >= 1 else 0

    def describe(self) -> str:
        lo, hi = self.range
        text = f"counts of {lo} to {hi} shown as {self.symbol}"
        if self.rounding:
            text += f"; other counts rounded to the nearest {self.rounding}"
        return text

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_mapping(cls, values: Mapping) -> DisclosurePolicy:
        """Build from a mapping (e.g. the ``[disclosure]`` table of an area TOML); unknown keys are an error."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown disclosure setting(s) {unknown}; known: {sorted(known)}")
        return cls(**dict(values))
