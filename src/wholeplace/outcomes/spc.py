"""Statistical process control (SPC) the NHS England "Making Data Count" way: tells real change from noise.

``xmr`` draws an XmR chart of any series (one or many, by ``group``): the mean, process limits at
mean ± 2.66 × mean moving range and the 2σ lines, split into limit groups at rebase events (``Rebase``: where,
why and who approved it), optionally fixed on the first N points of each group (baseline limits) and with
moving-range outliers screened out. Each point is tested for the four special-cause rules (a point beyond a
limit, a shift, a trend, two of three points close to a limit), labelled, and typed as improvement, concern or
neutral by the improvement direction. Each limit group gets a variation type; each series' latest one gets the
variation icon of its last point and, against a target, the assurance type. Rule lengths, screening and the
reading of conflicting rules come from a named ``Profile``. ``laney_p`` and ``laney_u`` do the same for
proportions and rates with large denominators. The engine is pure: frames in, frames out.

docs/spc.md gives the method, its sources and the reference results the tests reproduce.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import polars as pl

from wholeplace.errors import UserError

LIMIT = 2.66  # process limits at mean ± 2.66 × mean moving range (MDC, NHSRplotthedots)
CLOSE = 2 * (LIMIT / 3)  # the 2σ lines
SCREEN = 3.267  # moving ranges at or above 3.267 × their mean are outliers when screening
D2 = 1.128  # bias constant for moving ranges of two (Laney's σz)
TRIAL_POINTS = 13  # limit groups with fewer points have trial limits (NHSRplotthedots' warning)
PART = "_part"  # internal: one id per limit group
PRECEDENCE = ("outside_limits", "trend", "two_in_three", "shift")  # which rule labels a point several rules flag


class Direction(StrEnum):
    """Which way is better for the measure."""

    INCREASE = "increase"
    DECREASE = "decrease"
    NEUTRAL = "neutral"

    @property
    def sign(self) -> int:
        return {Direction.INCREASE: 1, Direction.DECREASE: -1, Direction.NEUTRAL: 0}[self]


class Conflict(StrEnum):
    """What a point means when rules disagree (e.g. a rising trend below the mean when higher is better)."""

    PRECEDENCE = "precedence"  # NHSRplotthedots: the first rule by precedence decides
    IMPROVEMENT = "improvement"  # MDC SQL MetricConflictRule = Improvement
    CONCERN = "concern"  # MDC SQL MetricConflictRule = Concern


class PointType(StrEnum):
    COMMON_CAUSE = "common_cause"
    IMPROVEMENT = "special_cause_improvement"
    CONCERN = "special_cause_concern"
    NEUTRAL_HIGH = "special_cause_neutral_high"
    NEUTRAL_LOW = "special_cause_neutral_low"
    NO_VARIATION = "no_variation"  # every moving range is 0: limits undefined, nothing claimed


class Assurance(StrEnum):
    """Whether the process will meet the target (Making Data Count's assurance icon)."""

    PASS = "pass"
    HIT_OR_MISS = "hit_or_miss"
    FAIL = "fail"


@dataclass(frozen=True)
class Profile:
    """A named set of rule settings: the run lengths of the shift and trend rules, whether moving-range
    outliers are screened out, and how a point that is both improvement and concern is read. The astronomical
    point and two-of-three rules and the 2.66 constant are the same in every profile."""

    name: str
    shift_points: int
    trend_points: int
    screen_outliers: bool
    conflict: Conflict
    description: str


PROFILES = {
    p.name: p
    for p in (
        Profile("mdc", 7, 7, False, Conflict.CONCERN,
                "NHS England Making Data Count (MDC SQL v2.4 and Excel tools): 7-point shift and trend, no "
                "moving-range screening, a conflicting point read as concern"),
        Profile("nhsr", 7, 7, True, Conflict.PRECEDENCE,
                "NHSRplotthedots 0.2: as mdc, but moving ranges of 3.267 x their mean or more are screened out and "
                "a conflicting point takes the label of the first rule by precedence"),
        Profile("mdc-6", 6, 6, False, Conflict.CONCERN,
                "six-point shift and trend (the mdcspc toolkit, pyqicharts), otherwise as mdc"),
        Profile("abspc", 8, 6, False, Conflict.CONCERN,
                "an eight-point shift and a six-point trend (abspc, Aneurin Bevan University Health Board), "
                "otherwise as mdc"),
    )
}
DEFAULT_PROFILE = "mdc"


@dataclass(frozen=True)
class Rebase:
    """A recalculation of the limits: new limits start at the first point on or after ``at``.

    Recalculating is a decision, so it carries why (``reason``) and who agreed it (``approver``)."""

    at: Any
    reason: str | None = None
    approver: str | None = None


def profile_for(name: str) -> Profile:
    """The profile of that name; an unknown name is a user error listing the valid ones."""
    try:
        return PROFILES[name]
    except KeyError:
        raise UserError(f"Unknown SPC profile {name!r}.", hint=f"Use one of: {', '.join(PROFILES)}.") from None


@dataclass(frozen=True)
class SpcSettings:
    """Everything that decided a result, kept with it."""

    chart: str
    direction: Direction
    profile: Profile
    screen_outliers: bool
    conflict: Conflict
    fix_after: int | None = None
    rebase: tuple[Rebase, ...] = ()
    target: float | dict[str, float] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "chart": self.chart, "direction": self.direction.value, "profile": self.profile.name,
            "shift_points": self.profile.shift_points, "trend_points": self.profile.trend_points,
            "screen_outliers": self.screen_outliers, "conflict": self.conflict.value, "fix_after": self.fix_after,
            "rebase": [{"at": str(r.at), "reason": r.reason, "approver": r.approver} for r in self.rebase],
            "target": self.target,
        }


@dataclass
class SpcResult:
    """``points``: one row per point; ``summary``: one row per limit group (group × rebase group)."""

    points: pl.DataFrame
    summary: pl.DataFrame
    settings: SpcSettings = field(repr=False)


# --- public entry points -------------------------------------------------------------------------------------


def xmr(
    frame: pl.DataFrame, *, x: str, y: str, group: str | None = None, direction: Direction | str = "neutral",
    target: float | Mapping[str, float] | None = None, rebase: Sequence[Any] = (), fix_after: int | None = None,
    screen_outliers: bool | None = None, profile: str = DEFAULT_PROFILE, conflict: Conflict | str | None = None,
) -> SpcResult:
    """An XmR chart of ``y`` over ``x`` (one series per ``group`` value), with rules, point types and summary.

    ``rebase`` values (same kind as ``x``, or ``Rebase`` events with a reason and approver) each start a new limit
    group at the first point on or after them; ``fix_after`` = N computes each limit group's limits on its first
    N points only (baseline limits, frozen and extended forward); ``target`` is one value or one per group value.
    ``screen_outliers`` and ``conflict`` default to the profile's."""
    settings = _settings("xmr", direction, profile, screen_outliers, conflict, fix_after, rebase, target)
    series = _prepare(frame, x=x, values={"y": y}, group=group, rebase=settings.rebase)
    _check_target(settings, series, group)
    points = _classify(_xmr_limits(series, fix_after=fix_after, screen=settings.screen_outliers), settings)
    return SpcResult(_points_out(points, group), _summary(points, settings, group), settings)


def laney_p(
    frame: pl.DataFrame, *, x: str, numerator: str, denominator: str, group: str | None = None,
    direction: Direction | str = "neutral", rebase: Sequence[Any] = (), screen_outliers: bool | None = None,
    profile: str = DEFAULT_PROFILE, conflict: Conflict | str | None = None,
) -> SpcResult:
    """Laney's p′ chart of the proportion numerator / denominator: limits p̄ ± 3·σpᵢ·σz, within [0, 1]."""
    return _laney("laney_p", frame, x, numerator, denominator, group, direction, rebase, screen_outliers, profile,
                  conflict)


def laney_u(
    frame: pl.DataFrame, *, x: str, numerator: str, denominator: str, group: str | None = None,
    direction: Direction | str = "neutral", rebase: Sequence[Any] = (), screen_outliers: bool | None = None,
    profile: str = DEFAULT_PROFILE, conflict: Conflict | str | None = None,
) -> SpcResult:
    """Laney's u′ chart of the rate numerator / denominator: limits ū ± 3·σuᵢ·σz, the lower one at least 0."""
    return _laney("laney_u", frame, x, numerator, denominator, group, direction, rebase, screen_outliers, profile,
                  conflict)


# --- rule helpers (numpy; ``starts`` marks the first point of each limit group, default: one group) -----------


def run_ends(values: Any, length: int, starts: Any = None) -> np.ndarray:
    """±1 at each point that ends ``length`` consecutive identical non-zero values (their sign), else 0."""
    values = np.asarray(values)
    position = _run_positions(values, _starts(starts, len(values)))
    return np.where((values != 0) & (position >= length), np.sign(values), 0).astype(np.int64)


def expand_run_ends(ends: Any, length: int) -> np.ndarray:
    """True for every point of a run whose end ``run_ends`` marked (the end and the ``length`` − 1 before it)."""
    marks = np.asarray(ends) != 0
    counts = np.concatenate([[0], np.cumsum(marks)])
    index = np.arange(len(marks))
    return (counts[np.minimum(index + length, len(marks))] - counts[index]) > 0


def trend_ends(y: Any, length: int, starts: Any = None) -> np.ndarray:
    """+1/−1 at each point that ends ``length`` points each strictly above/below the one before (ties break)."""
    steps = _steps(np.asarray(y, dtype=np.float64), _starts(starts, len(y)))
    return run_ends(steps, length - 1, starts)


def trend_directions(y: Any, length: int, starts: Any = None) -> np.ndarray:
    """+1/−1 for each point of a rising/falling trend of at least ``length`` points, else 0.

    A point where a rising trend turns into a falling one belongs to both and takes the later one's direction."""
    y = np.asarray(y, dtype=np.float64)
    steps = _steps(y, _starts(starts, len(y)))
    stepped_in = expand_run_ends(trend_ends(y, length, starts), length - 1) & (steps != 0)
    after = np.append(stepped_in[1:], False)
    next_step = np.append(steps[1:], 0)
    return np.where(after, next_step, np.where(stepped_in, steps, 0)).astype(np.int64)


def two_in_three_windows(close: Any, side: Any, starts: Any = None) -> np.ndarray:
    """True for every point inside 3 consecutive points of which at least 2 are close to a limit and all 3 are
    on the same side of the mean."""
    close = np.asarray(close, dtype=bool)
    side = np.asarray(side, dtype=np.int64)
    group = np.cumsum(_starts(starts, len(close)))
    qualifies = np.zeros(len(close), dtype=bool)  # the window starting at this point
    if len(close) >= 3:
        closes = close[:-2].astype(np.int64) + close[1:-1] + close[2:]
        sides = side[:-2] + side[1:-1] + side[2:]
        qualifies[:-2] = (group[:-2] == group[2:]) & (closes >= 2) & (np.abs(sides) == 3)
    inside = qualifies.copy()
    inside[1:] |= qualifies[:-1]
    inside[2:] |= qualifies[:-2]
    return inside


def part_of_two_in_three(close: Any, side: Any, starts: Any = None) -> np.ndarray:
    """The close points of qualifying windows: those the two-of-three rule flags (the others stay uncoloured)."""
    return two_in_three_windows(close, side, starts) & np.asarray(close, dtype=bool)


def _starts(starts: Any, n: int) -> np.ndarray:
    if starts is not None:
        return np.asarray(starts, dtype=bool)
    first = np.zeros(n, dtype=bool)
    first[:1] = True
    return first


def _run_positions(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """1-based position of each point in its run of equal values; a limit group's first point starts a run."""
    new = starts.copy()
    if len(values):
        new[0] = True
        new[1:] |= values[1:] != values[:-1]
    index = np.arange(len(values))
    return index - np.maximum.accumulate(np.where(new, index, 0)) + 1


def _steps(y: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Sign of the change from the previous point (0 at a limit group's first point)."""
    steps = np.zeros(len(y), dtype=np.int64)
    steps[1:] = np.sign(np.diff(y))
    steps[starts] = 0
    return steps


# --- settings and input checks -----------------------------------------------------------------------------


def _settings(chart: str, direction: Direction | str, profile: str, screen: bool | None,
              conflict: Conflict | str | None, fix_after: int | None, rebase: Sequence[Any],
              target: Any) -> SpcSettings:
    chosen = _member(Direction, direction, "improvement direction")
    rules = profile_for(profile)
    if fix_after is not None and (isinstance(fix_after, bool) or not isinstance(fix_after, int) or fix_after < 2):
        raise UserError(f"fix_after must be a whole number of points, at least 2; got {fix_after!r}.",
                        hint="Limits need at least two points; 12 or more is usual (fewer give trial limits).")
    if target is not None and chosen is Direction.NEUTRAL:
        raise UserError("A target needs an improvement direction (increase or decrease); the direction is neutral.",
                        hint="Say which way is better, or drop the target.")
    frozen_target = {str(k): float(v) for k, v in target.items()} if isinstance(target, Mapping) else target
    screen = rules.screen_outliers if screen is None else bool(screen)
    chosen_conflict = rules.conflict if conflict is None else _member(Conflict, conflict, "conflict rule")
    return SpcSettings(chart, chosen, rules, screen, chosen_conflict, fix_after, _rebase_events(rebase), frozen_target)


def _rebase_events(rebase: Sequence[Any] | str) -> tuple[Rebase, ...]:
    values = [rebase] if isinstance(rebase, str) else list(rebase)
    return tuple(value if isinstance(value, Rebase) else Rebase(value) for value in values)


def _member(kind: Any, value: Any, what: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        raise UserError(f"Unknown {what} {value!r}.", hint=f"Use one of: {', '.join(m.value for m in kind)}.") from None


def _prepare(frame: pl.DataFrame, *, x: str, values: dict[str, str], group: str | None,
             rebase: tuple[Rebase, ...]) -> pl.DataFrame:
    """Checked series sorted by group and x, with ``rebase_group``, the rebase that started it (reason and
    approver) and the internal limit-group id."""
    _require_columns(frame, [c for c in (x, *values.values(), group) if c is not None])
    for column in values.values():
        frame = frame.with_columns(_numbers(frame, column, x))
    _check_x(frame, x, group)
    names = {x: "x", **{v: k for k, v in values.items()}} | ({group: "group"} if group else {})
    series = frame.select(
        *([pl.col(group).alias("group")] if group else []), pl.col(x).alias("x"),
        *(pl.col(column).cast(pl.Float64).alias(name) for name, column in values.items()),
    ).sort([*(["group"] if group else []), "x"])
    _check_duplicates(series, names, group)
    keys = ["group"] if group else []
    events = _sorted_events(rebase, frame.schema[x], x)
    series = series.with_columns(_rebase_groups(series, events).alias("_rebase"))
    number = pl.col("_rebase").rank("dense")
    series = series.with_columns(((number.over(keys) if keys else number) - 1).cast(pl.Int64).alias("rebase_group"))
    new = pl.any_horizontal(pl.col(k) != pl.col(k).shift(1) for k in [*keys, "rebase_group"]).fill_null(True)
    series = series.with_columns((new.cum_sum() - 1).alias(PART))
    _check_sizes(series, group, x)
    return _with_reasons(series, events)


def _with_reasons(series: pl.DataFrame, events: list[tuple[Any, Rebase]]) -> pl.DataFrame:
    """The reason and approver of the rebase that started each limit group (none for a series' first)."""
    reasons = pl.DataFrame({
        "_rebase": list(range(1, len(events) + 1)), "rebase_reason": [e.reason for _, e in events],
        "rebase_approver": [e.approver for _, e in events]}, schema={
        "_rebase": pl.Int64, "rebase_reason": pl.String, "rebase_approver": pl.String})
    started = pl.col("rebase_group") > 0
    joined = series.join(reasons, on="_rebase", how="left", maintain_order="left")
    return joined.with_columns(pl.when(started).then(pl.col(c)).alias(c) for c in ("rebase_reason", "rebase_approver"))


def _require_columns(frame: pl.DataFrame, columns: list[str]) -> None:
    missing = [c for c in dict.fromkeys(columns) if c not in frame.columns]
    if missing:
        raise UserError(f"There is no column {', '.join(map(repr, missing))}.",
                        hint=f"The columns are: {', '.join(frame.columns)}.")


def _numbers(frame: pl.DataFrame, column: str, x: str) -> pl.Series:
    """The column as numbers; text that is not a number, blanks and non-finite values are errors naming rows."""
    values = frame.get_column(column)
    if values.dtype == pl.String:
        values = values.str.strip_chars().cast(pl.Float64, strict=False)
    elif not values.dtype.is_numeric():
        raise UserError(f"Column {column!r} must hold numbers, but it holds {values.dtype}.",
                        hint="Convert it to numbers first (no thousands separators, units or text).")
    values = values.cast(pl.Float64)
    bad = (values.is_null() | values.is_nan() | values.is_infinite()).arg_true()
    if bad.len():
        rows = frame.select(pl.col(column).cast(pl.String).alias("value"), pl.col(x).cast(pl.String).alias("x"))
        shown = "; ".join(f"row {i + 1} ({x} = {r['x']}): {r['value']!r}"
                          for i, r in zip(bad.head(5).to_list(), rows[bad.head(5)].iter_rows(named=True), strict=True))
        raise UserError(f"Column {column!r} has {bad.len()} values that are not finite numbers: {shown}.",
                        hint="Correct those rows, fill them in or remove them: SPC needs a number for every point.")
    return values


def _check_x(frame: pl.DataFrame, x: str, group: str | None) -> None:
    dtype = frame.schema[x]
    if not (dtype.is_temporal() or dtype.is_numeric() or dtype == pl.String):
        raise UserError(f"Column {x!r} must hold dates, times or numbers to put the points in order; it holds {dtype}.")
    for column in (x, group):
        if column is not None and frame.get_column(column).null_count():
            raise UserError(f"Column {column!r} has {frame.get_column(column).null_count()} missing values.",
                            hint="Remove those rows or fill them in.")
    if frame.height < 2:
        raise UserError(f"SPC needs at least 2 points; there are {frame.height}.")


def _check_duplicates(series: pl.DataFrame, names: dict[str, str], group: str | None) -> None:
    keys = ["group", "x"] if group else ["x"]
    twice = series.filter(pl.struct(keys).is_duplicated()).unique(keys, maintain_order=True)
    if twice.height:
        first = twice.row(0, named=True)
        where = f" in group {first['group']!r}" if group else ""
        x_name = next(k for k, v in names.items() if v == "x")
        raise UserError(f"Column {x_name!r} has {first['x']} more than once{where} ({twice.height} values repeat).",
                        hint="Each point needs its own x; add up or remove the repeated rows first.")


def _sorted_events(rebase: tuple[Rebase, ...], dtype: Any, x: str) -> list[tuple[Any, Rebase]]:
    """Each rebase with its value read as a value of the x column, in order."""
    values = _rebase_values([event.at for event in rebase], dtype, x).to_list()
    return sorted(zip(values, rebase, strict=True), key=lambda pair: pair[0])


def _rebase_groups(series: pl.DataFrame, events: list[tuple[Any, Rebase]]) -> pl.Series:
    """How many rebase values are on or before each x (renumbered from 0 within each series by the caller)."""
    column = series.get_column("x")
    column = column.cast(pl.Float64) if column.dtype.is_numeric() else column
    first: Any = column.min()
    last: Any = column.max()
    for value, _ in events:
        if value > last:
            raise UserError(f"The rebase date {value} is after the last point ({last}).",
                            hint="A rebase starts new limits at a point; give a date within the series.")
        if value <= first:
            raise UserError(f"The rebase date {value} is on or before the first point ({first}).",
                            hint="The first limits start there anyway; give a later date or leave it out.")
    if not events:
        return pl.Series([0] * series.height, dtype=pl.Int64)
    dates = pl.Series([value for value, _ in events], dtype=column.dtype)
    return dates.search_sorted(column, side="right").cast(pl.Int64)


def _rebase_values(values: list[Any], dtype: Any, x: str) -> pl.Series:
    try:
        if values and all(isinstance(v, str) for v in values) and dtype.is_temporal():
            text = pl.Series("rebase", values).str.strip_chars()
            return text.str.to_date() if dtype == pl.Date else text.str.to_datetime().cast(dtype)
        return pl.Series("rebase", values).cast(pl.Float64 if dtype.is_numeric() else dtype)  # 11.5 stays 11.5
    except (pl.exceptions.PolarsError, TypeError, ValueError):
        raise UserError(f"The rebase dates {', '.join(map(str, values))} cannot be read as values of column {x!r} "
                        f"({dtype}).", hint="Give rebase dates in the same form as the x column, e.g. 2024-04-01.") \
            from None


def _check_sizes(series: pl.DataFrame, group: str | None, x: str) -> None:
    sizes = series.group_by(PART, maintain_order=True).agg(
        pl.len().alias("n"), pl.col("x").first().alias("start"), pl.col("rebase_group").first(),
        *([pl.col("group").first()] if group else []))
    short = sizes.filter(pl.col("n") < 2)
    if short.height:
        row = short.row(0, named=True)
        where = f" of group {row['group']!r}" if group else ""
        what = f"The limits starting at {x} = {row['start']}{where}" if row["rebase_group"] else f"The series{where}"
        raise UserError(f"{what} would rest on only {row['n']} point; limits need at least 2.",
                        hint="Add points, or move or remove the rebase date that starts them.")


def _check_target(settings: SpcSettings, series: pl.DataFrame, group: str | None) -> None:
    if not isinstance(settings.target, dict):
        return
    if group is None:
        raise UserError("Targets per group need a group column.", hint="Give one target value, or name the group.")
    known = {str(v) for v in series.get_column("group").unique().to_list()}
    unknown = sorted(set(settings.target) - known)
    if unknown:
        raise UserError(f"There are targets for {', '.join(map(repr, unknown))}, which column {group!r} does not hold.",
                        hint=f"Its values are: {', '.join(sorted(known))}.")


# --- limits ------------------------------------------------------------------------------------------------


def _xmr_limits(series: pl.DataFrame, *, fix_after: int | None, screen: bool) -> pl.DataFrame:
    """Mean and mean moving range of each limit group's baseline points (all, or the first ``fix_after``)."""
    baseline = pl.int_range(pl.len()).over(PART) < (fix_after or series.height)
    moving_range = (pl.col("y") - pl.col("y").shift(1)).abs().over(PART)
    frame = series.with_columns(baseline.alias("baseline")).with_columns(
        pl.col("y").filter(pl.col("baseline")).mean().over(PART).alias("mean"),
        pl.when(pl.col("baseline")).then(moving_range).alias("_mr"),
    )
    frame = _mean_moving_range(frame, screen)
    return _with_lines(frame, centre=pl.col("mean"), three=LIMIT * pl.col("_amr"), two=CLOSE * pl.col("_amr"))


def _mean_moving_range(frame: pl.DataFrame, screen: bool) -> pl.DataFrame:
    """``_amr``: the mean of ``_mr``; with screening, recomputed without moving ranges ≥ 3.267 × that mean
    (NHSRplotthedots: the mean of the points is left as it is)."""
    frame = frame.with_columns(pl.col("_mr").mean().over(PART).alias("_amr"))
    if screen:
        kept = pl.when(pl.col("_mr") < SCREEN * pl.col("_amr")).then(pl.col("_mr"))
        frame = frame.with_columns(kept.alias("_mr")).with_columns(pl.col("_mr").mean().over(PART).alias("_amr"))
    return frame


def _with_lines(frame: pl.DataFrame, *, centre: pl.Expr, three: pl.Expr, two: pl.Expr,
                floor: float | None = None, ceiling: float | None = None,
                flat: pl.Expr | None = None) -> pl.DataFrame:
    """Process limits and 2σ lines; all undefined (null) where the group has no variation."""
    no_variation = pl.col("_amr").is_null() | (pl.col("_amr") == 0) | pl.col("_amr").is_nan()
    if flat is not None:
        no_variation = no_variation | flat
    frame = frame.with_columns(no_variation.alias("no_variation"))

    def line(expr: pl.Expr, name: str) -> pl.Expr:
        bounded = expr.clip(floor, ceiling) if floor is not None or ceiling is not None else expr
        return pl.when(~pl.col("no_variation")).then(bounded).alias(name)

    return frame.with_columns(
        line(centre - three, "lpl"), line(centre + three, "upl"),
        line(centre - two, "lower_2sigma"), line(centre + two, "upper_2sigma"),
    )


def _laney(chart: str, frame: pl.DataFrame, x: str, numerator: str, denominator: str, group: str | None,
           direction: Direction | str, rebase: Sequence[Any], screen: bool | None, profile: str,
           conflict: Conflict | str | None) -> SpcResult:
    settings = _settings(chart, direction, profile, screen, conflict, None, rebase, None)
    series = _prepare(frame, x=x, values={"numerator": numerator, "denominator": denominator}, group=group,
                      rebase=settings.rebase)
    _check_counts(series, chart, numerator, denominator)
    points = _classify(_laney_limits(series, proportion=chart == "laney_p", screen=settings.screen_outliers), settings)
    return SpcResult(_points_out(points, group), _summary(points, settings, group), settings)


def _check_counts(series: pl.DataFrame, chart: str, numerator: str, denominator: str) -> None:
    checks = [(pl.col("denominator") <= 0, f"column {denominator!r} must be above 0"),
              (pl.col("numerator") < 0, f"column {numerator!r} must not be negative")]
    if chart == "laney_p":
        checks.append((pl.col("numerator") > pl.col("denominator"),
                       f"a proportion's numerator ({numerator!r}) cannot exceed its denominator ({denominator!r})"))
    for condition, message in checks:
        bad = series.filter(condition)
        if bad.height:
            at = ", ".join(str(v) for v in bad.get_column("x").head(5).to_list())
            raise UserError(f"In {bad.height} rows {message} (at x = {at}).", hint="Correct or remove those rows.")


def _laney_limits(series: pl.DataFrame, *, proportion: bool, screen: bool) -> pl.DataFrame:
    """Laney: z-scores against the binomial/Poisson σ of each point; their moving ranges give σz (÷ 1.128)."""
    centre = pl.col("numerator").sum().over(PART) / pl.col("denominator").sum().over(PART)
    frame = series.with_columns(
        (pl.col("numerator") / pl.col("denominator")).alias("y"), centre.alias("mean"), pl.lit(True).alias("baseline")
    )
    variance = pl.col("mean") * (1 - pl.col("mean")) if proportion else pl.col("mean")
    frame = frame.with_columns((variance / pl.col("denominator")).sqrt().alias("_sigma"))
    z = pl.when(pl.col("_sigma") > 0).then((pl.col("y") - pl.col("mean")) / pl.col("_sigma"))
    frame = frame.with_columns(z.alias("_z")).with_columns(
        (pl.col("_z") - pl.col("_z").shift(1)).abs().over(PART).alias("_mr")
    )
    frame = _mean_moving_range(frame, screen).with_columns((pl.col("_amr") / D2).alias("sigma_z"))
    spread = pl.col("_sigma") * pl.col("sigma_z")
    flat = (pl.col("_sigma") == 0).any().over(PART)
    return _with_lines(frame, centre=pl.col("mean"), three=3 * spread, two=2 * spread, floor=0.0,
                       ceiling=1.0 if proportion else None, flat=flat)


# --- rules, labels and point types ---------------------------------------------------------------------------


def _classify(frame: pl.DataFrame, settings: SpcSettings) -> pl.DataFrame:
    """Flags of every rule, the one label per point and its point type."""
    y = frame.get_column("y").to_numpy()
    flat = frame.get_column("no_variation").to_numpy()
    lines = {c: frame.get_column(c).fill_null(np.nan).to_numpy() for c in ("lpl", "upl", "lower_2sigma",
                                                                           "upper_2sigma")}
    starts = frame.get_column(PART).diff().fill_null(1).to_numpy() != 0
    side = np.sign(y - frame.get_column("mean").to_numpy()).astype(np.int64)
    outside = (y > lines["upl"]) | (y < lines["lpl"])
    close = ~outside & ((y < lines["lower_2sigma"]) | (y > lines["upper_2sigma"]))
    profile = settings.profile
    signals = {
        "outside_limits": np.where(outside, side, 0),
        "trend": trend_directions(y, profile.trend_points, starts),
        "two_in_three": np.where(part_of_two_in_three(close, side, starts), side, 0),
        "shift": np.where(expand_run_ends(run_ends(side, profile.shift_points, starts), profile.shift_points),
                          side, 0),
    }
    rules = {name: np.where(flat, 0, signals[name]) for name in PRECEDENCE}
    rule, sign, conflict = _choose(rules, settings)
    return frame.with_columns(
        pl.Series("relative_to_mean", side),
        pl.Series("outside_limits", rules["outside_limits"] != 0),
        pl.Series("close_to_limits", close),
        *(pl.Series(name, rules[name] != 0) for name in ("trend", "two_in_three", "shift")),
        pl.Series("special_cause", rule > 0),
        _labels(rule, sign, flat, profile),
        pl.Series("conflict", conflict),
        _point_types(sign, flat, settings.direction),
    )


def _choose(rules: dict[str, np.ndarray], settings: SpcSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rule that labels each point (1–4 in precedence order, 0 none), its sign, and whether rules disagree."""
    signals = list(rules.values())
    conflict = np.any([s > 0 for s in signals], axis=0) & np.any([s < 0 for s in signals], axis=0)
    if settings.conflict is not Conflict.PRECEDENCE and settings.direction is not Direction.NEUTRAL:
        wanted = settings.direction.sign * (1 if settings.conflict is Conflict.IMPROVEMENT else -1)
        signals = [np.where(conflict & (s != wanted), 0, s) for s in signals]
    rule = np.zeros(len(conflict), dtype=np.int64)
    sign = np.zeros(len(conflict), dtype=np.int64)
    for number, signal in reversed(list(enumerate(signals, start=1))):
        rule = np.where(signal != 0, number, rule)
        sign = np.where(signal != 0, signal, sign)
    return rule, sign, conflict


def _labels(rule: np.ndarray, sign: np.ndarray, flat: np.ndarray, profile: Profile) -> pl.Series:
    """NHSRplotthedots' special-cause labels, with the profile's run lengths."""
    trend, shift = profile.trend_points, profile.shift_points
    names = ["Common Cause", "Below LCL", "Above UCL", f"{trend} Point Trend (Decreasing)",
             f"{trend} Point Trend (Increasing)", "2 in 3 Below CL", "2 in 3 Above CL", f"{shift} Points Below CL",
             f"{shift} Points Above CL", "No Variation"]
    code = np.where(rule > 0, 2 * rule - 1 + (sign > 0), 0)
    return _text("special_cause_type", np.where(flat, len(names) - 1, code), names)


def _point_types(sign: np.ndarray, flat: np.ndarray, direction: Direction) -> pl.Series:
    """Common cause, improvement or concern (neutral high or low when neither way is better)."""
    kinds = [PointType.COMMON_CAUSE, PointType.CONCERN, PointType.IMPROVEMENT, PointType.NO_VARIATION]
    if direction is Direction.NEUTRAL:
        kinds[1:3] = [PointType.NEUTRAL_LOW, PointType.NEUTRAL_HIGH]
    else:
        sign = sign * direction.sign
    code = np.where(flat, 3, np.where(sign > 0, 2, np.where(sign < 0, 1, 0)))
    return _text("point_type", code, [k.value for k in kinds])


def _text(name: str, code: np.ndarray, names: list[str]) -> pl.Series:
    """Codes to their names (much faster than building a numpy array of strings)."""
    return pl.Series(name, code).replace_strict(list(range(len(names))), names, return_dtype=pl.String)


# --- outputs -----------------------------------------------------------------------------------------------

POINT_COLUMNS = [
    "x", "numerator", "denominator", "y", "rebase_group", "baseline", "mean", "lpl", "upl", "lower_2sigma",
    "upper_2sigma", "outside_limits", "relative_to_mean", "close_to_limits", "trend", "two_in_three", "shift",
    "special_cause", "special_cause_type", "conflict", "point_type", "trial_limits", "no_variation",
]


def _points_out(frame: pl.DataFrame, group: str | None) -> pl.DataFrame:
    frame = frame.with_columns((pl.len().over(PART) < TRIAL_POINTS).alias("trial_limits"))
    columns = [c for c in POINT_COLUMNS if c in frame.columns]
    return frame.select(*(["group"] if group else []), *columns)


def _summary(points: pl.DataFrame, settings: SpcSettings, group: str | None) -> pl.DataFrame:
    """One row per limit group; the assurance type only on each series' last limit group."""
    laney = settings.chart != "xmr"
    counts = [(pl.col("point_type") == kind.value).sum().cast(pl.Int64).alias(name) for name, kind in (
        ("common_cause", PointType.COMMON_CAUSE), ("special_cause_improvement", PointType.IMPROVEMENT),
        ("special_cause_concern", PointType.CONCERN))]
    neutral = pl.col("point_type").is_in([PointType.NEUTRAL_HIGH.value, PointType.NEUTRAL_LOW.value]).sum().cast(
        pl.Int64)
    lines = [] if laney else [pl.col(c).first() for c in ("lpl", "upl", "lower_2sigma", "upper_2sigma")]
    summary = points.group_by(PART, maintain_order=True).agg(
        *([pl.col("group").first()] if group else []), pl.col("rebase_group").first(),
        pl.col("x").first().alias("start"), pl.col("x").last().alias("end"), pl.len().cast(pl.Int64).alias("n"),
        pl.col("baseline").sum().cast(pl.Int64).alias("baseline_points"), pl.col("mean").first(), *lines,
        pl.col("_amr").first().alias("mean_moving_range"),
        *([pl.col("sigma_z").first()] if laney else []),
        *counts, neutral.alias("special_cause_neutral"), pl.col("point_type").last().alias("variation_type"),
        pl.col("no_variation").first(), pl.col("rebase_reason").first(), pl.col("rebase_approver").first(),
    )
    summary = summary.with_columns(
        (pl.col("n") < TRIAL_POINTS).alias("trial_limits"),
        pl.Series("target", _targets(summary, settings, group), dtype=pl.Float64),
    )
    latest = pl.col("rebase_group").max()
    summary = summary.with_columns((pl.col("rebase_group") == (latest.over("group") if group else latest)).alias(
        "latest"))
    summary = summary.with_columns(
        pl.Series("assurance_type", _assurance(summary, settings.direction), dtype=pl.String),
        pl.col("variation_type").replace_strict(_icons(settings.direction), default=None).alias("variation_icon"),
    ).with_columns(pl.when(pl.col("latest")).then(pl.col(c)).alias(c) for c in ("assurance_type", "variation_icon"))
    tail = ["variation_type", "target", "assurance_type", "latest", "variation_icon", "trial_limits", "no_variation",
            "rebase_reason", "rebase_approver"]
    return summary.select(pl.exclude(PART, *tail), *tail)


def _icons(direction: Direction) -> dict[str, str]:
    """Making Data Count's variation icon for the type of a series' last point (none when it has no variation)."""
    if direction is Direction.NEUTRAL:
        return {PointType.COMMON_CAUSE.value: "common_cause", PointType.NEUTRAL_HIGH.value: "neither_high",
                PointType.NEUTRAL_LOW.value: "neither_low"}
    better, worse = ("high", "low") if direction is Direction.INCREASE else ("low", "high")
    return {PointType.COMMON_CAUSE.value: "common_cause", PointType.IMPROVEMENT.value: f"improvement_{better}",
            PointType.CONCERN.value: f"concern_{worse}"}


def _targets(summary: pl.DataFrame, settings: SpcSettings, group: str | None) -> list[float | None]:
    target = settings.target
    if isinstance(target, dict) and group:
        return [target.get(str(g)) for g in summary.get_column("group").to_list()]
    return [None if target is None else float(target)] * summary.height  # type: ignore[arg-type]


def _assurance(summary: pl.DataFrame, direction: Direction) -> list[str | None]:
    """MDC SQL's comparison: a target on a limit counts as a pass or a fail, not hit or miss."""
    if "lpl" not in summary.columns or direction is Direction.NEUTRAL:
        return [None] * summary.height
    out: list[str | None] = []
    for target, lpl, upl in summary.select("target", "lpl", "upl").iter_rows():
        if target is None or lpl is None or upl is None:
            out.append(None)
            continue
        low_is_better = direction is Direction.DECREASE
        if target <= lpl:
            out.append((Assurance.FAIL if low_is_better else Assurance.PASS).value)
        elif target >= upl:
            out.append((Assurance.PASS if low_is_better else Assurance.FAIL).value)
        else:
            out.append(Assurance.HIT_OR_MISS.value)
    return out
