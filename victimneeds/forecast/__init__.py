"""Forecasting monthly demand with backtested accuracy, coherent totals and scenarios.

:func:`forecast` fits, per series, several families of model to monthly counts, scores each by a
rolling-origin backtest on the mean absolute scaled error (MASE), and forecasts with an equal-weight
combination of seasonal naive, naive, SARIMAX and a seasonal level (``method="combination"``, the default),
the best per series (``method="auto"``) or a named method. :func:`reconcile` makes forecasts at district x
crime group add up to district and area totals, and :func:`scenario` applies what-ifs. Also exposed through
:mod:`victimneeds.demand`.

Candidate methods
-----------------
``snaive``   seasonal naive: the same month a year earlier (earlier years if that month is missing). The
             baseline every other method must beat.
``naive``    the last observed month repeated.
``ets``      exponential smoothing in state-space form (statsmodels ``ETSModel``): additive errors and a
             damped additive trend, fitted to log(count + 1) after removing a seasonal index (classical
             decomposition, when at least 36 months are available) and back-transformed, so intervals are
             skewed and never negative.
``sarimax``  seasonal ARIMA on log(count + 1): ARIMA(1,1,1), with a seasonal (0,1,1) part at lag 12 when at
             least 36 months are available, and a lockdown regressor.
``glm``      negative binomial GLM: log link, linear trend, two Fourier pairs for seasonality (with at
             least 24 months), a lockdown indicator; intervals by simulation: coefficients drawn from an
             AR(1)-robust sandwich covariance, and months' extra-Poisson variation as a latent AR(1)
             log-rate deviation (variance log(1 + alpha), lag-one correlation from the Pearson residuals),
             so persistent high or low runs of months widen yearly totals.
``theta``    the Theta method (statsmodels ``ThetaModel``, theta = 2: simple exponential smoothing plus half
             the slope of a linear trend; Assimakopoulos and Nikolopoulos 2000, Hyndman and Billah 2003) on
             log(count + 1), seasonally adjusted (additive, classical decomposition) when two years are
             available and seasonality tests significant; gaps and lockdown months as for ``ets``. Sample
             paths add simple exponential smoothing's h-step errors to the Theta forecast. Not among the
             default candidates (:data:`METHODS`); name it in ``method``, ``methods`` or ``combination``.
``seasonal_level``  the mean of the last :data:`LEVEL_MONTHS` (6) seasonally adjusted months on the log(count + 1)
             scale plus a seasonal profile (:func:`seasonal_profile`, gap-tolerant so that lockdown gaps do
             not flatten it, and shrunk toward flat by its Poisson noise), the series' own or, with
             ``season_keys``, that of the total of the series sharing those keys (e.g. a crime group over all
             districts); lockdown months carry no weight. Paths from a local level (random walk plus noise) model whose
             variances come from the adjusted series' monthly changes. A member of the default combination; not
             among :data:`METHODS`.

Intervals and yearly totals come from :data:`N_PATHS` simulated sample paths per series: ``ets`` and
``sarimax`` from statsmodels' own state-space simulation started at the end of the series (so the h-step
variance growth and the correlation of months within a path are the model's); ``ets`` with Student-t shocks
whose scale is the error variance of the months actually seen on n - p degrees of freedom (p counts the
smoothing parameters, initial states and seasonal index); ``glm`` with one draw of the coefficients per
path and an autocorrelated latent deviation; ``naive`` and ``snaive`` as (seasonal) random walks. A
combination of methods averages their paths rank by rank of the path totals (quantile averaging).
:meth:`ForecastResult.yearly` and :meth:`ForecastResult.financial_years` sum each path's months.

Calibration (``calibrate=True``, whenever a backtest ran): every month of every backtest window gives a
standardised error, its distance from the paths' median in the paths' standard deviations (log scale; lockdown
months left out). Pooled over series, their variance per horizon and side of the median (twice the semivariance)
scales the monthly intervals' half-widths, and their variance and correlation per lag give the variance of a
block's log total, to which the spread of the paths' totals is scaled (the members' paths make months' errors
more alike, naive, or less alike, seasonal naive, than they turn out to be); a Student t allowance covers
variances estimated from few windows. Measured on held-out origins (``bench/forecast_origins.py``, 4 rolling
origins, factors from each training window only; Avon and Somerset / Leicestershire), the default held in its
monthly 80% intervals 82.7 / 77.2% of months at force x crime type and 81.0 / 82.8% at district x crime type, in
its 95% intervals 91.1 / 92.7% and 92.9 / 93.7%; its yearly 80% ranges held 92.9 / 78.6% of 12-month totals at
force level and 80.2 / 84.3% at district level (with the conformal rules before: monthly 88.7 / 78.1% and 83.2 /
83.5%, 95% 97.3 / 96.9% and 93.7 / 93.6%; yearly 98.2 / 92.9% and 87.1 / 88.1%). In Avon and Somerset the
held-out year was calmer than any backtest window, so its force-level yearly ranges stay wide.

Missing months (months absent from the input, as in the real police.uk files) are kept as gaps, not dropped:
``sarimax`` skips them in the Kalman filter; ``glm`` leaves them out of the likelihood; ``ets`` (which needs
an unbroken series) is fitted to the series with gaps filled by linear interpolation on the log scale (filled
months add no information, only continuity); ``snaive`` looks back whole years until it finds the month.

Lockdown: :data:`LOCKDOWN_MONTHS` are the months in England's three national lockdowns (23 March to June
2020, 5 November to 2 December 2020, 6 January to March 2021) in which recorded crime and ASB moved sharply
(theft and burglary fell, ASB rose with reports of breaches). With ``lockdown=True`` (the default) the
``glm`` and ``sarimax`` models get an indicator for those months (set to 0 in the forecast, i.e. "no
lockdown ahead"), and ``ets`` treats them as missing, so they carry zero weight. The baseline ``snaive`` and
``naive`` are left as they are.

The code lives in one module per part: :mod:`~victimneeds.forecast.helpers`, :mod:`~victimneeds.forecast.methods`,
:mod:`~victimneeds.forecast.backtest`, :mod:`~victimneeds.forecast.api`, :mod:`~victimneeds.forecast.coherence`,
:mod:`~victimneeds.forecast.scenarios`; everything public is importable from ``victimneeds.forecast``.
"""

from __future__ import annotations

from victimneeds.forecast.api import ForecastResult, _block_totals, forecast  # noqa: F401
from victimneeds.forecast.backtest import (  # noqa: F401
    _calibrate,
    _combine,
    _error_model,
    _month_factor,
    _origins,
    _rank_average,
    _series,
    _series_inner,
    _total_factor,
    _widen,
    _window_z,
)
from victimneeds.forecast.coherence import (  # noqa: F401
    _RECONCILE_NAMES,
    RECONCILE_METHODS,
    _reconcile_optimal,
    _wide,
    aggregate_forecasts,
    mint_matrix,
    reconcile,
    shrink_covariance,
    summing_matrix,
)
from victimneeds.forecast.helpers import (  # noqa: F401
    _METHOD_NAMES,
    _SEASON,
    AUTO_METHODS,
    COMBINATION,
    LOCKDOWN_MONTHS,
    METHODS,
    _scale,
    fourier_terms,
    mase,
)
from victimneeds.forecast.methods import (  # noqa: F401
    _FITTERS,
    _SEED,
    LEVEL_MONTHS,
    N_PATHS,
    Fit,
    _ets,
    _fill_log,
    _from_paths,
    _glm,
    _lagged,
    _lockdown_flag,
    _naive,
    _run,
    _sarimax,
    _seasonal_level,
    _snaive,
    _theta,
    _without_lockdown,
    seasonal_profile,
)
from victimneeds.forecast.scenarios import ScenarioResult, scenario  # noqa: F401

__all__ = [
    "LOCKDOWN_MONTHS",
    "AUTO_METHODS",
    "COMBINATION",
    "N_PATHS",
    "METHODS",
    "ForecastResult",
    "ScenarioResult",
    "forecast",
    "fourier_terms",
    "mase",
    "seasonal_profile",
    "LEVEL_MONTHS",
    "RECONCILE_METHODS",
    "aggregate_forecasts",
    "mint_matrix",
    "reconcile",
    "scenario",
    "shrink_covariance",
    "summing_matrix",
]
