"""Forecast core: accuracy measures, benchmarks, model choice by backtest and the short-series fallback,
checked against hand-computed values and series with planted seasonality and level."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from wholeplace.demand import forecast
from wholeplace.demand.forecast import accuracy, forecast_frame, forecast_series, seasonal_naive_scale
from wholeplace.errors import UserError


def seasonal(months: int, *, level: float = 100.0, amplitude: float = 20.0, trend: float = 0.0, noise: float = 2.0,
             seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(months)
    return level + trend * t + amplitude * np.sin(2 * np.pi * t / 12) + rng.normal(0, noise, months)


def test_accuracy_matches_hand_computed_values() -> None:
    actual = np.array([10.0, 20.0, 40.0])
    predicted = np.array([12.0, 18.0, 44.0])
    score = accuracy(actual, predicted, scale=4.0)
    assert score.mae == pytest.approx(8 / 3)
    assert score.rmse == pytest.approx(np.sqrt((4 + 4 + 16) / 3))
    assert score.mape == pytest.approx(100 * (0.2 + 0.1 + 0.1) / 3)
    assert score.mase == pytest.approx((8 / 3) / 4)


def test_mape_and_mase_are_none_when_undefined() -> None:
    score = accuracy(np.array([0.0, 2.0]), np.array([1.0, 1.0]), scale=0.0)
    assert score.mape is None and score.mase is None and score.mae == 1.0


def test_the_mase_scale_is_the_in_sample_seasonal_naive_mae() -> None:
    train = np.array([1.0, 2.0, 3.0, 4.0, 2.0, 2.0, 5.0, 4.0])
    assert seasonal_naive_scale(train, period=4) == pytest.approx((1 + 0 + 2 + 0) / 4)


def test_seasonal_naive_repeats_the_last_cycle_and_widens_each_cycle() -> None:
    train = np.tile([1.0, 5.0, 3.0], 3) + np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
    prediction = forecast.predict_seasonal_naive(train, 3, 7)
    assert prediction.mean.tolist() == [3.0, 7.0, 5.0, 3.0, 7.0, 5.0, 3.0]
    width = prediction.upper[95] - prediction.lower[95]
    assert width[3] == pytest.approx(width[0] * np.sqrt(2)) and width[6] == pytest.approx(width[0] * np.sqrt(3))
    assert np.all(prediction.upper[95] - prediction.lower[95] > prediction.upper[80] - prediction.lower[80])


def test_a_planted_season_and_trend_are_found_and_beat_seasonal_naive() -> None:
    values = seasonal(60, trend=1.5)
    result = forecast_series(values, period=12, horizon=48)
    assert result.model.startswith("ets_damped") and "season" in result.model
    assert result.holdout == 12 and result.months == 60
    chosen, benchmark = result.accuracy[result.model], result.accuracy["seasonal_naive"]
    assert chosen.mase is not None and benchmark.mase is not None and chosen.mase <= benchmark.mase
    expected = 100 + 1.5 * np.arange(60, 72) + 20 * np.sin(2 * np.pi * np.arange(60, 72) / 12)
    assert np.max(np.abs(result.prediction.mean[:12] - expected)) < 8  # the planted cycle, within noise
    assert result.prediction.mean.size == 48
    for level in (80, 95):
        assert np.all(result.prediction.lower[level] <= result.prediction.mean)
        assert np.all(result.prediction.mean <= result.prediction.upper[level])
    assert np.all(result.prediction.lower[95] <= result.prediction.lower[80])


def test_the_chosen_model_has_the_lowest_backtest_mae_of_every_candidate() -> None:
    result = forecast_series(seasonal(40, noise=6, seed=4), period=12, horizon=6)
    assert set(result.accuracy) >= {"mean", "naive", "seasonal_naive", "ets_damped"}
    assert result.accuracy[result.model].mae == min(a.mae for a in result.accuracy.values())


def test_a_flat_series_prefers_the_simpler_model_on_a_tie() -> None:
    result = forecast_series(np.full(36, 7.0), period=12, horizon=3)
    assert result.model == "seasonal_naive"
    assert result.prediction.mean.tolist() == [7.0, 7.0, 7.0]


@pytest.mark.parametrize(("months", "model"), [(18, "seasonal_naive"), (5, "mean")])
def test_short_series_fall_back_with_a_stated_reason(months: int, model: str) -> None:
    result = forecast_series(seasonal(months), period=12, horizon=24)
    assert result.model == model and result.accuracy == {} and result.holdout == 0
    assert "fewer than two seasonal cycles" in result.reason


def test_count_forecasts_never_go_below_zero() -> None:
    values = np.array([5.0, 0, 3, 0, 0, 1, 0, 0, 2, 0, 0, 0] * 3)
    result = forecast_series(values, period=12, horizon=24)
    for array in (result.prediction.mean, *result.prediction.lower.values(), *result.prediction.upper.values()):
        assert np.all(array >= 0)


def test_default_holdout_is_a_cycle_when_three_are_there_else_half() -> None:
    assert [forecast.default_holdout(n, period=12) for n in (24, 30, 36, 60)] == [6, 6, 12, 12]


def test_a_frame_of_series_keeps_models_accuracy_and_dated_forecasts() -> None:
    months = pl.date_range(pl.date(2020, 1, 1), pl.date(2022, 12, 1), interval="1mo", eager=True)
    frame = pl.concat([
        pl.DataFrame({"dataset": "d", "area_code": area, "category": "c", "month": months,
                      "events": seasonal(36, seed=seed)}) for seed, area in enumerate(("A", "B"))])
    result = forecast_frame(frame, horizon=4)
    assert result.models["area_code"].to_list() == ["A", "B"]
    assert result.forecasts.height == 8
    assert result.forecasts["month"].unique().sort().to_list() == [date(2023, m, 1) for m in (1, 2, 3, 4)]
    chosen = result.accuracy.filter(pl.col("chosen"))
    assert chosen.height == 2 and chosen["model"].to_list() == result.models["model"].to_list()
    assert result.models["seasonal_naive_mase"].is_not_null().all()


def test_the_horizon_is_limited_to_four_years() -> None:
    with pytest.raises(UserError, match="1 to 48 months"):
        forecast.check_horizon(49)
