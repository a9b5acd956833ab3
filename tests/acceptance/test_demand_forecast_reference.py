"""The forecast backtest on the fpp2 ``ausbeer`` series reproduces the published benchmark accuracy
(Hyndman & Athanasopoulos, FPP2 §3.4) in ``reference/evaluation/expected_values.json``."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from tests.conftest import require_shared
from wholeplace.demand.forecast import backtest, choose_model, forecast_series

pytestmark = pytest.mark.shared

PERIOD = 4
TEST_QUARTERS = 10  # 2008Q1-2010Q2
# The reference gives two decimals; 34.825 rounds to 34.83, so the tolerance is met with float slack.
SLACK = 1e-9


@pytest.fixture(scope="module")
def beer() -> np.ndarray:
    frame = pl.read_csv(require_shared("reference/evaluation/forecasting/ausbeer.csv"))
    quarters = frame["quarter"].to_list()
    return frame["value"].to_numpy()[quarters.index("1992Q1"): quarters.index("2010Q2") + 1].astype(float)


@pytest.fixture(scope="module")
def reference() -> dict[str, object]:
    values = json.loads(require_shared("reference/evaluation/expected_values.json").read_text())
    return values["forecast_benchmarks_fpp2_ausbeer"]  # type: ignore[no-any-return]


def test_the_training_and_test_quarters_are_those_of_the_reference(beer: np.ndarray) -> None:
    assert beer.size == 64 + TEST_QUARTERS


@pytest.mark.parametrize(("model", "name"), [("mean", "Mean"), ("naive", "Naive"),
                                             ("seasonal_naive", "Seasonal_naive")])
def test_the_benchmarks_reproduce_the_reference_accuracy(beer: np.ndarray, reference: dict, model: str,
                                                         name: str) -> None:
    scores = backtest(beer, period=PERIOD, holdout=TEST_QUARTERS).accuracy[model]
    expected = reference["expected"][name]
    tolerance = float(str(reference["tolerance"]).split()[0]) + SLACK
    measured = {"RMSE": scores.rmse, "MAE": scores.mae, "MAPE": scores.mape, "MASE": scores.mase}
    for measure, value in expected.items():
        assert measured[measure] == pytest.approx(value, abs=tolerance), measure


def test_the_chosen_model_is_no_worse_than_seasonal_naive_on_its_backtest(beer: np.ndarray) -> None:
    result = forecast_series(beer, period=PERIOD, horizon=16, holdout=TEST_QUARTERS)
    assert result.model == choose_model(result.accuracy)
    chosen, benchmark = result.accuracy[result.model].mase, result.accuracy["seasonal_naive"].mase
    assert chosen is not None and benchmark is not None and chosen <= benchmark
    assert len(result.accuracy) == 6 and not result.failed  # every candidate was fitted on 64 quarters
    print(f"ausbeer: chosen {result.model}, MASE {chosen:.3f} against seasonal naive {benchmark:.3f}")
