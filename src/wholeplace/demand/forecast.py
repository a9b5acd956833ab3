"""Future demand: monthly series by dataset, category and place, forecast up to four years ahead.

Each series is forecast by the model that did best on a holdout backtest of its last months:
three benchmarks (mean, naive, seasonal naive) and exponential smoothing with a damped trend
(statsmodels ``ETSModel``: no season, additive season, and multiplicative season for series
that never reach zero). Accuracy is RMSE, MAE, MAPE (percent; None when an actual is zero) and
MASE, scaled by the in-sample MAE of the seasonal naive forecast on the training months, so a
MASE below 1 beats seasonal naive as it did in training. Since every candidate shares that
scale, choosing by MASE is choosing by MAE; ties go to the simpler model. A series shorter than
two seasonal cycles is not backtested: it gets seasonal naive (one cycle or more) or its mean,
and the reason says so. Forecasts and 80 % / 95 % prediction intervals are counts, so they are
cut at zero.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import duckdb
import numpy as np
import pandas as pd  # statsmodels' ETS prediction intervals need a pandas series
import polars as pl
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

from wholeplace.errors import UserError
from wholeplace.overview import UnknownChoiceError
from wholeplace.store.stores import Stores

PERIOD = 12  # months in a seasonal cycle
MAX_HORIZON = 48  # four years, as a Force Management Statement asks
LEVELS = (80, 95)  # prediction interval coverage, percent
Z = {80: 1.2815515655446004, 95: 1.959963984540054}  # standard normal quantiles for the two levels
BENCHMARKS = ("seasonal_naive", "naive", "mean")  # in order of preference when accuracy ties
ETS_SPECS: dict[str, dict[str, object]] = {
    "ets_damped": {"error": "add", "trend": "add", "damped_trend": True},
    "ets_damped_additive_season": {"error": "add", "trend": "add", "damped_trend": True, "seasonal": "add"},
    "ets_damped_multiplicative_season": {"error": "mul", "trend": "add", "damped_trend": True, "seasonal": "mul"},
}
MIN_ETS_MONTHS = 10  # fewer points than this cannot support a damped-trend model's five parameters


@dataclass(frozen=True)
class Accuracy:
    """Backtest accuracy of one model: MAPE in percent; MAPE and MASE None when undefined."""

    rmse: float
    mae: float
    mape: float | None
    mase: float | None


@dataclass(frozen=True)
class Prediction:
    """Point forecast and prediction interval bounds by coverage level (80, 95)."""

    mean: np.ndarray
    lower: dict[int, np.ndarray]
    upper: dict[int, np.ndarray]


@dataclass(frozen=True)
class SeriesForecast:
    """One series' chosen model, why, its backtest (every candidate's accuracy) and its forecast."""

    model: str
    reason: str
    months: int
    holdout: int
    accuracy: dict[str, Accuracy]
    prediction: Prediction
    failed: dict[str, str] = field(default_factory=dict)  # candidate → why it could not be fitted


def accuracy(actual: np.ndarray, predicted: np.ndarray, *, scale: float) -> Accuracy:
    """RMSE, MAE, MAPE (percent) and MASE of ``predicted`` against ``actual``; ``scale`` divides MAE."""
    errors = np.asarray(actual, dtype=float) - np.asarray(predicted, dtype=float)
    mae = float(np.mean(np.abs(errors)))
    mape = float(100 * np.mean(np.abs(errors / actual))) if np.all(actual != 0) else None
    mase = mae / scale if scale > 0 else None
    return Accuracy(rmse=float(np.sqrt(np.mean(errors**2))), mae=mae, mape=mape, mase=mase)


def seasonal_naive_scale(train: np.ndarray, *, period: int) -> float:
    """In-sample MAE of the seasonal naive forecast: the MASE denominator."""
    return float(np.mean(np.abs(train[period:] - train[:-period])))


def _interval(mean: np.ndarray, sd: np.ndarray) -> Prediction:
    return Prediction(mean, {lv: mean - Z[lv] * sd for lv in LEVELS}, {lv: mean + Z[lv] * sd for lv in LEVELS})


def _rms(residuals: np.ndarray) -> float:
    return float(np.sqrt(np.mean(residuals**2))) if residuals.size else 0.0


def predict_mean(train: np.ndarray, period: int, horizon: int, intervals: bool = True) -> Prediction:
    sd = _rms(train - train.mean()) * np.sqrt(1 + 1 / train.size)
    return _interval(np.full(horizon, train.mean()), np.full(horizon, sd))


def predict_naive(train: np.ndarray, period: int, horizon: int, intervals: bool = True) -> Prediction:
    steps = np.arange(1, horizon + 1)
    return _interval(np.full(horizon, train[-1]), _rms(np.diff(train)) * np.sqrt(steps))


def predict_seasonal_naive(train: np.ndarray, period: int, horizon: int, intervals: bool = True) -> Prediction:
    steps = np.arange(horizon)
    cycles = steps // period + 1  # whole cycles back to the month copied
    sigma = _rms(train[period:] - train[:-period])
    return _interval(train[-period:][steps % period], sigma * np.sqrt(cycles))


def _predict_ets(name: str) -> Callable[..., Prediction]:
    spec = ETS_SPECS[name]

    def predict(train: np.ndarray, period: int, horizon: int, intervals: bool = True) -> Prediction:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence chatter from the optimiser; results are checked below
            model = ETSModel(pd.Series(train), seasonal_periods=period if "seasonal" in spec else None, **spec)
            fitted = model.fit(disp=False)
            if not intervals:
                mean, lower, upper = np.asarray(fitted.forecast(horizon)), {}, {}
            else:  # exact intervals for additive errors; simulated (seeded) for multiplicative ones
                predicted = fitted.get_prediction(start=train.size, end=train.size + horizon - 1,
                                                  rng=np.random.default_rng(0))
                frames = {lv: predicted.summary_frame(alpha=1 - lv / 100) for lv in LEVELS}
                mean = frames[LEVELS[0]]["mean"].to_numpy()
                lower = {lv: f["pi_lower"].to_numpy() for lv, f in frames.items()}
                upper = {lv: f["pi_upper"].to_numpy() for lv, f in frames.items()}
        if not all(np.isfinite(a).all() for a in (mean, *lower.values(), *upper.values())):
            raise ValueError("the fitted model gave non-finite forecasts")
        return Prediction(mean, lower, upper)

    return predict


PREDICTORS: dict[str, Callable[..., Prediction]] = {
    "seasonal_naive": predict_seasonal_naive, "naive": predict_naive, "mean": predict_mean,
    **{name: _predict_ets(name) for name in ETS_SPECS},
}


def candidates(train: np.ndarray, *, period: int) -> list[str]:
    """Models a training stretch can support: seasonal ETS needs two cycles, multiplicative no zeros."""
    names = list(BENCHMARKS)
    if train.size >= MIN_ETS_MONTHS:
        names.append("ets_damped")
    if train.size >= 2 * period:
        names.append("ets_damped_additive_season")
        if np.all(train > 0):
            names.append("ets_damped_multiplicative_season")
    return names


def default_holdout(months: int, *, period: int) -> int:
    """Months held back: one cycle when three are available, else half a cycle."""
    return min(period, max(months - 2 * period, period // 2))


@dataclass(frozen=True)
class Backtest:
    accuracy: dict[str, Accuracy]
    failed: dict[str, str]


def backtest(values: np.ndarray, *, period: int, holdout: int) -> Backtest:
    """Fit every candidate on all but the last ``holdout`` values and score it on those."""
    train, test = values[:-holdout], values[-holdout:]
    scale = seasonal_naive_scale(train, period=period)
    scores: dict[str, Accuracy] = {}
    failed: dict[str, str] = {}
    for name in candidates(train, period=period):
        try:
            scores[name] = accuracy(test, PREDICTORS[name](train, period, holdout, intervals=False).mean, scale=scale)
        except (ValueError, np.linalg.LinAlgError) as error:
            failed[name] = str(error)
    return Backtest(scores, failed)


def choose_model(scores: dict[str, Accuracy]) -> str:
    """The candidate with the lowest backtest MAE (so lowest MASE); ties go to the earlier, simpler one."""
    return min(scores, key=lambda name: (round(scores[name].mae, 9), list(PREDICTORS).index(name)))


def forecast_series(values: np.ndarray, *, period: int = PERIOD, horizon: int = MAX_HORIZON,
                    holdout: int | None = None, nonnegative: bool = True) -> SeriesForecast:
    """Choose a model for one series by backtest, refit it on the whole series and forecast ``horizon``."""
    values = np.asarray(values, dtype=float)
    if values.size < 2 * period:
        model = "seasonal_naive" if values.size >= period else "mean"
        reason = (f"{values.size} months is fewer than two seasonal cycles ({2 * period}): no backtest; "
                  f"{'seasonal naive' if model == 'seasonal_naive' else 'the mean of the months there are'} is used")
        return SeriesForecast(model, reason, values.size, 0, {}, _bounded(PREDICTORS[model](values, period, horizon),
                                                                       nonnegative))
    holdout = holdout or default_holdout(values.size, period=period)
    tested = backtest(values, period=period, holdout=holdout)
    model = choose_model(tested.accuracy)
    try:
        prediction = PREDICTORS[model](values, period, horizon)
        reason = f"lowest MAE (and MASE) of {len(tested.accuracy)} models over the last {holdout} months"
    except (ValueError, np.linalg.LinAlgError) as error:
        prediction = PREDICTORS["seasonal_naive"](values, period, horizon)
        reason = f"{model} won the backtest but could not be refitted on the whole series ({error}); seasonal naive"
        model = "seasonal_naive"
    return SeriesForecast(model, reason, values.size, holdout, tested.accuracy, _bounded(prediction, nonnegative),
                          tested.failed)


def _bounded(prediction: Prediction, nonnegative: bool) -> Prediction:
    if not nonnegative:
        return prediction
    cut = lambda a: np.maximum(a, 0.0)  # noqa: E731
    return Prediction(cut(prediction.mean), {k: cut(v) for k, v in prediction.lower.items()},
                      {k: cut(v) for k, v in prediction.upper.items()})


# -- the place's series ------------------------------------------------------------------------

KEYS = ("dataset", "area_code", "category")
CATEGORY_FIELDS = ("category", "category_opening", "category_closing")

# Events are counted in the area of ``$level`` that contains their point, or in the area code the
# source gave when it is of that level; codes of another level are carried over by the lookup
# that nests (official, then geometric) or else the area-weighted one, in fractions of an event.
# ``{field}`` is one of CATEGORY_FIELDS, never user text.
FILTERED_SQL = """
SELECT dataset, {field} AS category, occurred_month AS month, location_status, longitude, latitude,
       source_area_code, source_area_level
FROM events_stored
WHERE ($datasets IS NULL OR list_contains($datasets, dataset)) AND ($dataset IS NULL OR dataset = $dataset)
  AND ($categories IS NULL OR list_contains($categories, {field})) AND {field} IS NOT NULL
  AND ($month_from IS NULL OR occurred_month >= $month_from) AND ($month_to IS NULL OR occurred_month <= $month_to)
"""
PLACED_SQL = """
methods AS (
  SELECT from_level, arg_min(method, CASE method WHEN 'official' THEN 0 WHEN 'nested' THEN 1
                                     WHEN 'area-weighted' THEN 2 ELSE 3 END) AS method
  FROM area_lookups WHERE to_level = $level GROUP BY from_level),
placed AS (
  SELECT f.dataset, f.category, f.month, pp.area_code, 1.0 AS share FROM filtered f
  JOIN point_places pp ON pp.longitude = f.longitude AND pp.latitude = f.latitude AND pp.level = $level
  WHERE f.location_status = 'point' AND pp.area_code IS NOT NULL
  UNION ALL
  SELECT dataset, category, month, source_area_code, 1.0 FROM filtered
  WHERE location_status = 'area_only' AND source_area_level = $level
  UNION ALL
  SELECT f.dataset, f.category, f.month, l.to_code, l.weight FROM filtered f
  JOIN methods m ON m.from_level = f.source_area_level
  JOIN area_lookups l ON l.from_level = f.source_area_level AND l.from_code = f.source_area_code
   AND l.to_level = $level AND l.method = m.method
  WHERE f.location_status = 'area_only' AND f.source_area_level <> $level),
counts AS (SELECT dataset, category, month, area_code, sum(share) AS events FROM placed GROUP BY ALL)
"""
WHOLE_PLACE_SQL = """
counts AS (SELECT dataset, category, month, NULL::VARCHAR AS area_code, count(*)::DOUBLE AS events
           FROM filtered GROUP BY ALL)
"""
# Every series runs over every month of its dataset's span, zero when quiet, so a quiet month
# is a zero in the model rather than a missing point.
DENSE_SQL = """
spans AS (SELECT dataset, min(month) AS first, max(month) AS last FROM filtered GROUP BY dataset),
months AS (SELECT dataset, CAST(unnest(generate_series(CAST(first AS TIMESTAMP), CAST(last AS TIMESTAMP),
                                                       INTERVAL 1 MONTH)) AS DATE) AS month FROM spans),
series AS (SELECT DISTINCT dataset, category, area_code FROM counts)
SELECT s.dataset, s.area_code, s.category, m.month, coalesce(c.events, 0.0) AS events
FROM series s JOIN months m USING (dataset)
LEFT JOIN counts c ON c.dataset = s.dataset AND c.category = s.category AND c.month = m.month
  AND c.area_code IS NOT DISTINCT FROM s.area_code
ORDER BY s.dataset, s.area_code, s.category, m.month
"""


@dataclass(frozen=True)
class MonthlyDemand:
    """Events by dataset, area and category for every month of each dataset's span."""

    frame: pl.DataFrame  # dataset, area_code (null for the whole place), category, month, events (float)
    level: str | None
    events_selected: int  # events matching the filters
    events_counted: float  # of those, counted in an area of the level (fractions for weighted lookups)


def monthly_demand(*, stores: Stores, datasets: list[str] | None = None, level: str | None = None,
                   dataset: str | None = None, categories: list[str] | None = None,
                   category_field: str = "category", month_from: date | str | None = None,
                   month_to: date | str | None = None, top_categories: int | None = None) -> MonthlyDemand:
    """Monthly counts by dataset, category and area of ``level`` (None: one series per category for the place).

    ``top_categories`` keeps each dataset's largest categories only. Events in no area of the
    level are not in the frame; ``events_selected - events_counted`` says how many.
    """
    con = stores.connect()
    _check_choices(con, datasets=datasets, level=level, dataset=dataset, category_field=category_field)
    params: dict[str, object] = {"datasets": datasets, "dataset": dataset, "categories": categories,
              "month_from": parse_month(month_from), "month_to": parse_month(month_to)}
    if categories:
        _check_categories(con, params, category_field, categories)
    filtered = "WITH filtered AS (" + FILTERED_SQL.format(field=category_field) + ") "
    counting = WHOLE_PLACE_SQL if level is None else PLACED_SQL
    level_param = {} if level is None else {"level": level}
    frame = con.execute(filtered + ", " + counting + ", " + DENSE_SQL, params | level_param).pl()
    if top_categories:
        frame = _top_categories(frame, top_categories)
    selected = con.execute(filtered + "SELECT dataset, category, count(*) AS n FROM filtered GROUP BY ALL",
                           params).pl().join(frame.select("dataset", "category").unique(), on=["dataset", "category"],
                                             how="semi" if top_categories else "left")
    return MonthlyDemand(frame, level, int(selected["n"].sum()), float(frame["events"].sum()))


def _check_choices(con: duckdb.DuckDBPyConnection, *, datasets: list[str] | None, level: str | None,
                   dataset: str | None, category_field: str) -> None:
    if category_field not in CATEGORY_FIELDS:
        raise UnknownChoiceError(field="category field", value=category_field, choices=list(CATEGORY_FIELDS))
    if level is not None:
        levels = [r[0] for r in con.execute("SELECT DISTINCT level FROM areas ORDER BY 1").fetchall()]
        if level not in levels:
            raise UnknownChoiceError(field="level", value=level, choices=levels)
    if dataset is not None:
        visible = [r[0] for r in con.execute(
            "SELECT DISTINCT dataset FROM events_stored WHERE $d IS NULL OR list_contains($d, dataset) ORDER BY 1",
            {"d": datasets}).fetchall()]
        if dataset not in visible:
            raise UnknownChoiceError(field="dataset", value=dataset, choices=visible)


def _check_categories(con: duckdb.DuckDBPyConnection, params: dict[str, object], field_name: str,
                      categories: list[str]) -> None:
    query = ("WITH filtered AS (" + FILTERED_SQL.format(field=field_name) + ") "
             "SELECT DISTINCT category FROM filtered ORDER BY 1")
    present = [r[0] for r in con.execute(query, params | {"categories": None}).fetchall()]
    for category in categories:
        if category not in present:
            raise UnknownChoiceError(field="category", value=category, choices=present,
                                     where="in the data selected")


def _top_categories(frame: pl.DataFrame, top: int) -> pl.DataFrame:
    """Keep each dataset's ``top`` categories by events (ties by name)."""
    totals = frame.group_by("dataset", "category").agg(pl.col("events").sum()).sort(
        ["dataset", "events", "category"], descending=[False, True, False])
    kept = totals.group_by("dataset", maintain_order=True).head(top).select("dataset", "category")
    return frame.join(kept, on=["dataset", "category"], how="semi")


def parse_month(value: date | str | None) -> date | None:
    if value is None or isinstance(value, date):
        return value.replace(day=1) if value else None
    try:
        return date.fromisoformat(value[:7] + "-01")
    except ValueError:
        raise UserError(f"{value!r} is not a month; write it as YYYY-MM.") from None



@dataclass(frozen=True)
class DemandForecast:
    """Forecasts of every series, the model chosen for each and every candidate's backtest accuracy."""

    forecasts: pl.DataFrame  # KEYS, month, forecast, lower_80, upper_80, lower_95, upper_95
    models: pl.DataFrame  # KEYS, model, reason, months, holdout, rmse, mae, mape, mase, seasonal_naive_mase
    accuracy: pl.DataFrame  # KEYS, model, rmse, mae, mape, mase, chosen
    level: str | None
    horizon: int
    seconds: float


def forecast_demand(*, stores: Stores, datasets: list[str] | None = None, level: str | None = None,
                    dataset: str | None = None, categories: list[str] | None = None,
                    category_field: str = "category", month_from: date | str | None = None,
                    month_to: date | str | None = None, top_categories: int | None = None,
                    horizon: int = MAX_HORIZON) -> DemandForecast:
    """Forecast monthly demand by dataset, category and area of ``level`` (None: the whole place)."""
    check_horizon(horizon)
    demand = monthly_demand(
        stores=stores, datasets=datasets, level=level, dataset=dataset, categories=categories,
        category_field=category_field, month_from=month_from, month_to=month_to, top_categories=top_categories)
    return forecast_frame(demand.frame, horizon=horizon, level=level)


def check_horizon(horizon: int) -> None:
    if not 1 <= horizon <= MAX_HORIZON:
        raise UserError(f"The forecast horizon must be 1 to {MAX_HORIZON} months, not {horizon}.",
                        hint="Ask for at most four years (48 months) ahead.")


def forecast_frame(demand: pl.DataFrame, *, horizon: int = MAX_HORIZON, period: int = PERIOD,
                   level: str | None = None) -> DemandForecast:
    """Forecast every series of a dense monthly frame (KEYS, month, events; every month present)."""
    started = time.perf_counter()
    forecasts: list[pl.DataFrame] = []
    models: list[dict[str, object]] = []
    scores: list[dict[str, object]] = []
    for key, rows in demand.sort("month").group_by(list(KEYS), maintain_order=True):
        result = forecast_series(rows["events"].to_numpy(), period=period, horizon=horizon)
        labels = dict(zip(KEYS, key, strict=True))
        forecasts.append(_forecast_rows(labels, rows["month"].max(), result))  # type: ignore[arg-type]
        models.append(_model_row(labels, result))
        scores.extend(labels | _accuracy_row(name, a) | {"chosen": name == result.model}
                      for name, a in result.accuracy.items())
    return DemandForecast(
        forecasts=pl.concat(forecasts) if forecasts else _empty_forecasts(),
        models=pl.DataFrame(models, schema=_MODEL_SCHEMA, orient="row") if models else pl.DataFrame(
            schema=_MODEL_SCHEMA),
        accuracy=pl.DataFrame(scores, schema=_ACCURACY_SCHEMA) if scores else pl.DataFrame(schema=_ACCURACY_SCHEMA),
        level=level, horizon=horizon, seconds=time.perf_counter() - started)


_KEY_SCHEMA = {"dataset": pl.String, "area_code": pl.String, "category": pl.String}
_SCORES = {"rmse": pl.Float64, "mae": pl.Float64, "mape": pl.Float64, "mase": pl.Float64}
_MODEL_SCHEMA = _KEY_SCHEMA | {"model": pl.String, "reason": pl.String, "months": pl.Int64, "holdout": pl.Int64} \
    | _SCORES | {"seasonal_naive_mase": pl.Float64}
_ACCURACY_SCHEMA = _KEY_SCHEMA | {"model": pl.String} | _SCORES | {"chosen": pl.Boolean}
_FORECAST_SCHEMA = _KEY_SCHEMA | {"month": pl.Date, "forecast": pl.Float64} | {
    f"{side}_{lv}": pl.Float64 for lv in LEVELS for side in ("lower", "upper")}


def _accuracy_row(name: str, score: Accuracy | None) -> dict[str, object]:
    return {"model": name, "rmse": score.rmse if score else None, "mae": score.mae if score else None,
            "mape": score.mape if score else None, "mase": score.mase if score else None}


def _model_row(labels: dict[str, object], result: SeriesForecast) -> dict[str, object]:
    chosen = _accuracy_row(result.model, result.accuracy.get(result.model))
    benchmark = result.accuracy.get("seasonal_naive")
    return labels | chosen | {"reason": result.reason, "months": result.months, "holdout": result.holdout,
                              "seasonal_naive_mase": benchmark.mase if benchmark else None}


def _forecast_rows(labels: dict[str, object], last: date, result: SeriesForecast) -> pl.DataFrame:
    months = pl.date_range(last, _add_months(last, len(result.prediction.mean)), interval="1mo", eager=True)[1:]
    bounds = {f"{side}_{lv}": getattr(result.prediction, side)[lv] for lv in LEVELS for side in ("lower", "upper")}
    frame = pl.DataFrame({"month": months, "forecast": result.prediction.mean} | bounds)
    return frame.with_columns(*(pl.lit(v, dtype=_KEY_SCHEMA[k]).alias(k) for k, v in labels.items())).select(
        list(_FORECAST_SCHEMA))


def _add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def _empty_forecasts() -> pl.DataFrame:
    return pl.DataFrame(schema=_FORECAST_SCHEMA)
