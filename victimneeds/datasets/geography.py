"""The example area's made-up geography: districts, small areas, deprivation and population.

Part of :mod:`victimneeds.datasets`; see its docstring for the whole analysis.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from victimneeds import datamodel as dm
from victimneeds.datasets.calibration import (
    _DISTRICTS,
    _UNDER_REFERRING,
    _cat,
    _ids,
)

# --------------------------------------------------------------------------------------------------
# Geography
# --------------------------------------------------------------------------------------------------

_CENTRE = np.array([446_000.0, 318_000.0])


def _wobble(rng: np.random.Generator, orders: range, scale: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ks = np.array(list(orders))
    amp = rng.uniform(0.4, 1.0, len(ks)) * scale / np.sqrt(ks)
    phase = rng.uniform(0, 2 * np.pi, len(ks))
    return ks, amp, phase


def _radius(theta: np.ndarray, wob: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    ks, amp, phase = wob
    return 1 + (amp[None, :] * np.cos(np.outer(theta, ks) + phase[None, :])).sum(axis=1)


def _polar(xy: np.ndarray, centre: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = xy - centre
    return np.hypot(d[:, 0], d[:, 1]), np.arctan2(d[:, 1], d[:, 0])


def _make_areas(rng: np.random.Generator) -> tuple[gpd.GeoDataFrame, dict[str, np.ndarray]]:
    """Small areas as Voronoi cells clipped to a county outline; returns the areas and per-area features."""
    # County outline: a star-shaped polygon (so always simple) about 55 km by 45 km.
    coarse, fine = _wobble(rng, range(2, 7), 0.16), _wobble(rng, range(7, 19), 0.05)
    outline_wob = tuple(np.concatenate([x, y]) for x, y in zip(coarse, fine, strict=True))
    theta = np.linspace(0, 2 * np.pi, 144, endpoint=False)
    r = _radius(theta, outline_wob)
    outline = shapely.Polygon(
        np.column_stack([_CENTRE[0] + 27_500 * r * np.cos(theta), _CENTRE[1] + 22_500 * r * np.sin(theta)])
    )

    def outline_radius(phi: np.ndarray) -> np.ndarray:
        """Distance from the centre to the outline in direction ``phi`` (the outline is star-shaped)."""
        th = np.arctan2(27_500 * np.sin(phi), 22_500 * np.cos(phi))  # the curve's parameter at that bearing
        return _radius(th, outline_wob) * np.hypot(27_500 * np.cos(th), 22_500 * np.sin(th))

    # The city: a blob of radius about 6.5 km around a centre near the county's middle.
    city_centre = _CENTRE + rng.normal(0, 1_500, 2)
    city_wob = _wobble(rng, range(2, 5), 0.15)

    def city_radius(th: np.ndarray) -> np.ndarray:
        return 6_500 * _radius(th, city_wob)

    def sample(n: int, centre: np.ndarray, sd: float, keep) -> np.ndarray:
        out: list[np.ndarray] = []
        got = 0
        while got < n:
            xy = (
                centre + rng.normal(0, sd, (2 * n, 2))
                if sd > 0
                else rng.uniform(_CENTRE - 32_000, _CENTRE + 32_000, (4 * n, 2))
            )
            xy = xy[keep(xy)]
            out.append(xy)
            got += len(xy)
        return np.concatenate(out)[:n]

    def in_outline(xy: np.ndarray, margin: float = 400.0) -> np.ndarray:
        d, th = _polar(xy, _CENTRE)
        return d < outline_radius(th) - margin

    def in_city(xy: np.ndarray, pad: float = 0.0) -> np.ndarray:
        d, th = _polar(xy, city_centre)
        return d < city_radius(th) + pad

    city_pts = sample(190, city_centre, 2_400, lambda xy: in_city(xy, -300) & in_outline(xy))

    # Four rural districts around the city, each with a market town near its seed point.
    angles = np.deg2rad(np.array([35.0, 125.0, 215.0, 305.0]) + rng.uniform(-12, 12, 4))
    seed_dist = np.minimum(17_000, 0.62 * outline_radius(angles))
    seeds = _CENTRE + np.column_stack([np.cos(angles), np.sin(angles)]) * seed_dist[:, None]
    town_sizes, town_sd = (45, 38, 32, 28), (1_600, 1_400, 1_250, 1_100)
    towns = seeds + rng.normal(0, 1_200, (4, 2))
    town_pts = [
        sample(n, c, sd, lambda xy: in_outline(xy) & ~in_city(xy, 1_500))
        for n, c, sd in zip(town_sizes, towns, town_sd, strict=True)
    ]
    rural_pts = sample(120, _CENTRE, 0, lambda xy: in_outline(xy, 800) & ~in_city(xy, 1_200))

    xy = np.concatenate([city_pts, *town_pts, rural_pts])
    kind = np.repeat(np.arange(6), [len(city_pts), *town_sizes, len(rural_pts)])  # 0 city, 1-4 towns, 5 rural
    district = np.where(kind == 0, 0, 1 + np.argmin(((xy[:, None, :] - seeds[None, :, :]) ** 2).sum(axis=2), axis=1))

    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(xy), extend_to=outline, ordered=True))
    cells = shapely.intersection(cells, outline)

    # ONS numbers small areas north to south within a district.
    order = np.lexsort((xy[:, 0], -xy[:, 1], district))
    xy, kind, district, cells = xy[order], kind[order], district[order], cells[order]
    n = len(xy)
    k_in_district = np.concatenate([np.arange((district == d).sum()) for d in range(len(_DISTRICTS))])
    area_km2 = shapely.area(cells) / 1e6

    d_city = np.hypot(*(xy - city_centre).T) / 1_000
    d_town = np.hypot(xy[:, None, 0] - towns[None, :, 0], xy[:, None, 1] - towns[None, :, 1]).min(axis=1) / 1_000
    log_imd = (
        2.2
        + 1.45 * np.exp(-d_city / 3.5)
        + 0.6 * np.exp(-d_town / 1.2)
        + 0.35 * (district == _UNDER_REFERRING)
        + rng.normal(0, 0.38, n)
    )
    imd_score = np.round(np.exp(log_imd), 3)
    urbanity = np.maximum(np.exp(-d_city / 5), 0.6 * np.exp(-d_town / 2))
    urban = (kind < 5) & (area_km2 < 6)
    population = np.clip(np.rint(rng.normal(1_560, 230, n)), 1_000, 3_000).astype(np.int64)

    codes = np.array([c for c, _ in _DISTRICTS])[district]
    names = np.array([nm for _, nm in _DISTRICTS])[district]
    letters = np.array(list("ABCDE"))[k_in_district % 5]
    area_names = [f"{d} {k // 5 + 1:03d}{letter}" for d, k, letter in zip(names, k_in_district, letters, strict=True)]
    areas = gpd.GeoDataFrame(
        {
            "area_code": pd.array(_ids("X01", n, 6), dtype="str"),
            "area_name": pd.array(area_names, dtype="str"),
            "district_code": pd.array(codes, dtype="str"),
            "district_name": pd.array(names, dtype="str"),
            "population": population,
            "imd_score": imd_score,
            "imd_decile": _imd_decile(imd_score),
            "urban_rural": _cat(np.where(urban, 0, 1), dm.URBAN_RURAL),
        },
        geometry=gpd.GeoSeries(cells, crs="EPSG:27700"),
    )
    centre_cells = np.zeros(n, dtype=bool)
    for c, k in [(city_centre, 5), *[(t, 2) for t in towns]]:
        centre_cells[np.argsort(np.hypot(*(xy - c).T))[:k]] = True
    features = {"district": district, "urbanity": urbanity, "centre": centre_cells, "log_imd": log_imd}
    return areas, features


# England-wide IMD 2019 score decile boundaries for LSOAs (MHCLG, English Indices of Deprivation 2019): a score
# at or above the first number is in decile 1 (most deprived), and so on.
_IMD2019_DECILE_CUTS = np.array([43.86, 33.25, 26.57, 21.55, 17.65, 14.24, 11.30, 8.62, 5.91])


def _imd_decile(score: np.ndarray) -> np.ndarray:
    return (1 + (score[:, None] < _IMD2019_DECILE_CUTS[None, :]).sum(axis=1)).astype(np.int64)


# Age structure of England and Wales (2021 Census, rounded) and its tilt in urban areas.
_AGE_SHARE = np.array([0.186, 0.105, 0.135, 0.128, 0.136, 0.125, 0.100, 0.085])
_AGE_URBAN_TILT = np.array([0.10, 0.55, 0.35, 0.05, -0.10, -0.20, -0.40, -0.45])
_FEMALE_SHARE_BY_AGE = np.array([0.488, 0.495, 0.505, 0.508, 0.508, 0.510, 0.522, 0.570])


def _make_population(rng: np.random.Generator, areas: pd.DataFrame, urbanity: np.ndarray) -> pd.DataFrame:
    tilt = np.exp(np.outer(urbanity - 0.3, _AGE_URBAN_TILT))
    age = _AGE_SHARE[None, :] * tilt
    age /= age.sum(axis=1, keepdims=True)
    cells = np.concatenate([age * _FEMALE_SHARE_BY_AGE, age * (1 - _FEMALE_SHARE_BY_AGE)], axis=1)
    counts = rng.multinomial(areas["population"].to_numpy(), cells)  # (areas, 16): Female ages, Male ages
    n_areas, n_ages = len(areas), len(dm.AGE_BANDS)
    return pd.DataFrame(
        {
            "area_code": np.repeat(areas["area_code"].to_numpy(), 2 * n_ages),
            "sex": _cat(np.tile(np.repeat([0, 1], n_ages), n_areas), dm.SEXES),
            "age_band": _cat(np.tile(np.arange(n_ages), 2 * n_areas), dm.AGE_BANDS),
            "population": counts.ravel().astype(np.int64),
        }
    )
