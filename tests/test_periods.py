import pandas as pd

from victimneeds.periods import complete_years, describe_period, financial_year


def test_financial_year_boundaries():
    months = pd.Series(pd.PeriodIndex(["2019-03", "2019-04", "2019-12", "2020-03", "2099-04"], freq="M"))
    assert financial_year(months).tolist() == ["2018/19", "2019/20", "2019/20", "2019/20", "2099/00"]


def test_financial_year_accepts_strings():
    assert financial_year(pd.Series(["2021-04", "2022-02"])).tolist() == ["2021/22", "2021/22"]


def test_complete_years_needs_all_twelve_months():
    months = pd.Series(pd.period_range("2019-12", "2022-11", freq="M"))
    # Dec 2019 - Mar 2020 is a partial 2019/20; Apr 2022 - Nov 2022 a partial 2022/23.
    assert complete_years(months) == ["2020/21", "2021/22"]


def test_describe_period_counts_months():
    assert describe_period(pd.Period("2019-12", "M"), pd.Period("2022-11", "M")) == (
        "December 2019 to November 2022 (36 months)")
