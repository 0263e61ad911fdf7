"""Who is less likely to be referred or to accept support: binomial GLMs with adjusted odds ratios.

Part of :mod:`victimneeds.referrals`; see its docstring for the whole analysis.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from victimneeds import compare, labels
from victimneeds.plotting import MARKERS, PALETTE, legend_below, page_size, plain_log_axis

#: Columns that both the crimes and the referrals table carry, by which the pathway can be split.
from victimneeds.referrals.core import (
    _flag,
    _fmt_pct,
    _police_linked,
    code_denominator,
    declined_table,
)

# --------------------------------------------------------------------------------------------------
# 3. Who is less likely to be referred or supported? Binomial GLM
# --------------------------------------------------------------------------------------------------

#: Covariates of the referral model, in the order shown.
MODEL_COVARIATES: tuple[str, ...] = (
    "crime_group",
    "district_code",
    "victim_sex",
    "victim_age_band",
    "victim_ethnicity",
    "victim_disability",
    "is_repeat_victim",
)


@dataclass
class OddsRatios:
    """Adjusted and unadjusted odds ratios from a binomial GLM (see :func:`referral_model`).

    Attributes
    ----------
    table : one row per covariate level: ``covariate, level, reference, n, events, rate, odds_ratio,
        lower, upper, p_value, unadjusted_or, unadjusted_lower, unadjusted_upper, warning, method``.
    outcome : what was modelled, in words.
    n : rows (victims) in the model; ``events`` how many had the outcome.
    notes : covariates left out and why, sparse groups, the denominator used.
    result : the adjusted model (statsmodels GLM results, or :class:`victimneeds.compare.FirthFit`).
    declined : for a referral model with consent recorded, victims with a need who declined referral, overall
        and by covariate, with Wilson intervals (:func:`declined_table`); None otherwise.
    wider : for a referral model on the Victims' Code denominator, the same table fitted over all assessed
        victims (declining counted as not referred), for comparison with earlier packs; None otherwise.
    """

    table: pd.DataFrame
    outcome: str
    n: int
    events: int
    notes: list[str] = field(default_factory=list)
    result: object | None = None
    declined: pd.DataFrame | None = None
    wider: pd.DataFrame | None = None

    def summary(self) -> str:
        lines = [
            f"Binomial GLM of {self.outcome}: {self.n:,} victims, {self.events:,} with the outcome",
            "covariate / level (vs reference): adjusted OR (95% CI); unadjusted OR",
        ]
        for r in self.table.itertuples(index=False):
            warn = f"  [{r.warning}]" if r.warning else ""
            lines.append(
                f"{r.covariate:<18} {r.level:<22} vs {r.reference:<18} {r.odds_ratio:6.2f} "
                f"({r.lower:.2f}-{r.upper:.2f}); {r.unadjusted_or:.2f}{warn}"
            )
        if self.declined is not None and len(self.declined):
            r = self.declined.iloc[0]
            lines.append(
                f"Declined referral (not a failure): {r['declined']:,} of {r['with_need']:,} victims with a need "
                f"({_fmt_pct(r['value'], r['lowercl'], r['uppercl'])})"
            )
        return "\n".join(lines + [f"Note: {n}" for n in self.notes])

    def __str__(self) -> str:
        return self.summary()

    def plot(self, ax: Axes | None = None, covariates: Sequence[str] | None = None,
             names: dict | None = None) -> Axes:
        """Forest plot: adjusted (circles) and unadjusted (squares) odds ratios with 95% intervals, log scale.

        ``names`` maps level codes to the labels shown (e.g. district code -> district name).
        """
        names = {str(k): str(v) for k, v in (names or {}).items()}
        t = self.table if covariates is None else self.table[self.table["covariate"].isin(covariates)]
        t = t[np.isfinite(t["odds_ratio"])].reset_index(drop=True)
        if ax is None:
            _, ax = plt.subplots(figsize=page_size(0.3 * len(t) + 1.8))
        y = np.arange(len(t))[::-1].astype(float)
        ax.errorbar(
            t["odds_ratio"],
            y + 0.15,
            xerr=[t["odds_ratio"] - t["lower"], t["upper"] - t["odds_ratio"]],
            fmt=MARKERS[0],
            color=PALETTE[0],
            capsize=2,
            markersize=4,
            label="Adjusted OR (95% CI)",
        )
        ax.errorbar(
            t["unadjusted_or"],
            y - 0.15,
            xerr=[t["unadjusted_or"] - t["unadjusted_lower"], t["unadjusted_upper"] - t["unadjusted_or"]],
            fmt=MARKERS[1],
            color=PALETTE[3],
            capsize=2,
            markersize=4,
            label="Unadjusted OR (95% CI)",
        )
        ax.axvline(1.0, color=PALETTE[4], linestyle="--", linewidth=1)
        ax.set_xscale("log")
        ax.set_yticks(
            y,
            [f"{labels.variable_label(c)}: {labels.level_label(lv, c, names)} (vs {labels.level_label(rf, c, names)})"
             for c, lv, rf in zip(t["covariate"], t["level"], t["reference"], strict=True)],
            fontsize=8,
        )
        plain_log_axis(ax, "x")
        ax.set_xlabel("Odds ratio, 95% interval (log scale; below 1 = less likely)")
        ax.set_title(f"Odds of {self.outcome.split(' (')[0]}, by group")
        ax.grid(axis="y", visible=False)
        legend_below(ax)
        return ax


def _model_frame(
    crimes: pd.DataFrame | None, referrals: pd.DataFrame, outcome: str, denominator: str = "code"
) -> tuple[pd.DataFrame, np.ndarray, str, list[str]]:
    notes: list[str] = []
    if outcome == "referred":
        if crimes is None:
            raise ValueError(
                "referral_model(outcome='referred') needs the crimes table: referral is modelled among "
                "victims with an identified need who agreed to referral (the Victims' Code denominator)"
            )
        d = code_denominator(crimes)
        if denominator == "code" and d.uses_consent:
            keep = d.eligible
            label = "police referral (among victims with a need who agreed to referral)"
            notes.append(d.note)
        else:
            keep = d.assessed
            label = "police referral (among assessed victims)"
            if denominator == "code":
                notes.append(d.note)
            notes.append(
                f"{int((~keep).sum()):,} crimes without an identified victim or a needs assessment are not in "
                "the model."
            )
        frame = crimes[keep]
        y = _police_linked(crimes, referrals)[keep]
        return frame, y, label, notes
    if outcome == "support_accepted":
        keep = _flag(referrals, "contact_made")
        frame = referrals[keep]
        if crimes is not None and "is_repeat_victim" not in frame.columns and "is_repeat_victim" in crimes.columns:
            rep = crimes.set_index(crimes["crime_id"].astype(str))["is_repeat_victim"]
            rep = rep[~rep.index.duplicated()]
            frame = frame.assign(is_repeat_victim=frame["crime_id"].astype(str).map(rep).to_numpy())
        y = _flag(frame, "support_accepted")
        notes.append(f"{int((~keep).sum()):,} referrals without contact made are not in the model.")
        return frame, y, "support accepted (among victims contacted)", notes
    raise ValueError(f"referral_model: outcome must be 'referred' or 'support_accepted', not {outcome!r}")


def referral_model(
    crimes: pd.DataFrame | None,
    referrals: pd.DataFrame,
    outcome: Literal["referred", "support_accepted"] = "referred",
    covariates: Sequence[str] = MODEL_COVARIATES,
    reference: dict[str, str] | None = None,
    min_group: int = 50,
    min_events: int = 10,
    confidence: float = 0.95,
    denominator: Literal["code", "assessed"] = "code",
) -> OddsRatios:
    """Binomial GLM (logistic regression) of referral, or of support accepted, on victim and crime characteristics.

    ``outcome="referred"`` models a police referral among the victims the Victims' Code says should be
    referred (Right 4): an identified victim, a need recorded by the officer and agreement to referral
    (:func:`code_denominator`). Victims who declined are not failures: they are left out of the model and
    counted in ``declined`` (share declining by each covariate), and the same model over all assessed
    victims (the wider, older denominator, which mixes declining with not being referred) is in ``wider``.
    ``denominator="assessed"`` fits that wider model as the main one. When the crimes table has no usable
    ``consent_to_refer``, the wider denominator is used and the notes say so. ``"support_accepted"`` models
    acceptance among referrals where contact was made (repeat victimisation is taken from the crimes table
    through ``crime_id`` when given).

    Each covariate is a factor; missing values form a "Not recorded" level; the reference level is the
    largest group unless ``reference`` names one. The model is fitted to the counts of each covariate pattern
    (identical to fitting it to the individual victims, but quicker) by :func:`victimneeds.compare.odds_ratios`:
    maximum likelihood, or Firth's penalised likelihood with profile intervals where a level has all or none
    of the outcome (separation), so that no odds ratio of 10^9 with an interval of 0 to infinity is reported.
    Unadjusted odds ratios come from each covariate's own 2x2 tables with Woolf's logit interval, which equals
    a one-factor logistic regression (a zero cell adds 1/2 to each cell, Firth's estimate for the table).

    Parameters
    ----------
    crimes, referrals : the canonical tables (``crimes`` may be None for ``"support_accepted"``).
    outcome : ``"referred"`` or ``"support_accepted"``.
    covariates : factor columns; those absent from the table are left out with a note.
    reference : covariate -> reference level.
    min_group, min_events : a level with fewer victims, or fewer than ``min_events`` with or without the
        outcome, is flagged in ``warning`` (its odds ratio is imprecise) and a Python warning is raised.
    confidence : level of the intervals.
    denominator : ``"code"`` (victims with a need who agreed to referral) or ``"assessed"`` (all assessed
        victims); only used for ``outcome="referred"``.

    Returns
    -------
    OddsRatios

    References
    ----------
    Ministry of Justice (2020). Code of Practice for Victims of Crime in England and Wales, Right 4.
    McCullagh P, Nelder JA (1989). Generalized Linear Models, 2nd edition. Chapman and Hall. Woolf B (1955). On
    estimating the relation between blood group and disease. Annals of Human Genetics 19:251-253. Firth D
    (1993). Biometrika 80:27-38. Heinze G, Schemper M (2002). Statistics in Medicine 21:2409-2419.

    Examples
    --------
    >>> refs = pd.DataFrame({"contact_made": [True] * 8, "crime_id": [None] * 8,
    ...     "support_accepted": [True, True, True, False, True, False, False, False],
    ...     "victim_sex": ["Female"] * 4 + ["Male"] * 4})
    >>> m = referral_model(None, refs, "support_accepted", covariates=["victim_sex"], reference={
    ...     "victim_sex": "Female"}, min_group=1, min_events=1)
    >>> round(float(m.table["odds_ratio"].iloc[0]), 4)  # (1/3) / (3/1)
    0.1111
    """
    if denominator not in ("code", "assessed"):
        raise ValueError(f"referral_model: denominator must be 'code' or 'assessed', not {denominator!r}")
    frame, y, label, notes = _model_frame(crimes, referrals, outcome, denominator)
    used = [c for c in covariates if c in frame.columns]
    for c in covariates:
        if c not in frame.columns:
            notes.append(f"'{c}' is not in the table for this model and is left out.")
    if not used:
        raise ValueError(f"referral_model: none of the covariates {list(covariates)} is in the table")
    if len(frame) == 0:
        raise ValueError(f"referral_model: no victims to model for outcome {outcome!r}")
    table, res = compare.odds_ratios(
        frame, pd.Series(y, index=frame.index), used, reference, None, confidence, min_group, min_events
    )
    method = table.pop("model")
    table["confidence"] = f"{confidence:.0%}"
    table["method"] = (
        (method.iloc[0] if len(method) else "logistic regression")
        + ", adjusted for all covariates shown; unadjusted: Woolf logit interval"
    )
    if len(method) and method.iloc[0].startswith("Firth"):
        notes.append(f"the model used {method.iloc[0]}.")
    small = table[table["warning"] != ""]
    if len(small):
        groups = ", ".join(small["covariate"] + "=" + small["level"])
        msg = f"referral_model: {len(small)} group(s) are small ({groups}); their odds ratios are imprecise"
        notes.append(msg)
        warnings.warn(msg, stacklevel=2)
    declined, wider = None, None
    if outcome == "referred" and crimes is not None:
        d = code_denominator(crimes)
        if d.uses_consent and denominator == "code":
            declined = declined_table(crimes, [c for c in used if c in crimes.columns], confidence, d)
            if denominator == "code":
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    wider = referral_model(
                        crimes, referrals, outcome, covariates, reference, min_group, min_events, confidence,
                        "assessed",
                    ).table
    return OddsRatios(
        table=table, outcome=label, n=len(y), events=int(np.sum(y)), notes=notes, result=res,
        declined=declined, wider=wider,
    )
