"""Inter-rater agreement statistics as pure functions over a reliability matrix.

Every function takes a reliability matrix, ``coders × units`` (rows are coders, columns are
units such as posts), of category values, with ``None``/NaN where a coder did not code a unit.
Values may be numbers or labels (labels are nominal only). The arithmetic is done by
``krippendorff``, ``statsmodels.stats.inter_rater`` and ``scikit-learn``; this module does the
data handling around them: missing ratings, shapes, degenerate data and seeded resampling.

Definitions (the ones a methods section needs):

* A unit is *pairable* when at least two coders rated it; only pairable units carry information
  about agreement, so a unit with a single rating never changes any statistic. Coders with no
  rating at all are dropped.
* Percent agreement is pairwise by default: for each pairable unit, the share of pairs of its
  ratings that agree, averaged over units (Fleiss 1971's observed agreement; irrCAC/Gwet's
  ``pa``). With two coders this is the share of units on which both agree.
* Cohen's kappa needs exactly two coders and uses the units both coded.
* Fleiss' kappa, Brennan–Prediger and Gwet's AC1 share one observed agreement (the pairwise
  percent agreement) and differ in chance agreement. When every unit has the same number of
  ratings (Fleiss 1971's design), Fleiss' kappa and Brennan–Prediger come from statsmodels. With
  missing ratings they follow Gwet (2014, *Handbook of Inter-Rater Reliability*, 4th ed., ch. 2)
  as irrCAC does: observed agreement over the pairable units, category prevalence averaged over
  every rated unit (so a unit with one rating informs prevalence, not agreement). irrCAC cannot
  be installed beside ethnoflow's pins, so those few lines are here, checked against irrCAC's
  published values; AC1 has no library at all and is computed the same way.
* No variation: when every pairable rating is the same category, kappa and alpha are 0/0 and
  are returned as ``None`` (report "n/a (no variation)"), while percent agreement is 1.0.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Literal

import krippendorff
import numpy as np
import pandas as pd
from sklearn.metrics import cohen_kappa_score, confusion_matrix, precision_recall_fscore_support
from statsmodels.stats.inter_rater import aggregate_raters
from statsmodels.stats.inter_rater import fleiss_kappa as _statsmodels_fleiss_kappa

__all__ = [
    "agreement_summary",
    "bootstrap_ci",
    "brennan_prediger",
    "classification_metrics",
    "cohen_kappa",
    "fleiss_kappa",
    "gwet_ac1",
    "krippendorff_alpha",
    "percent_agreement",
]

Matrix = Sequence[Sequence[Any]] | np.ndarray
Statistic = Callable[[Matrix], float | None]
Level = Literal["nominal", "ordinal", "interval", "ratio"]
_NUMBER = (bool, int, float, np.number, np.bool_)

# Below this share of defined bootstrap resamples the interval is not reported: the resamples
# that survive are conditioned on "the data happened to vary", which narrows the interval.
MIN_VALID_SHARE = 0.9


def _as_ratings(matrix: Matrix) -> tuple[np.ndarray, bool]:
    """Return ``(ratings, numeric)``: a float coders × units array with NaN for missing.

    Labels (strings) are replaced by codes 0..V-1 in sorted order, which is only meaningful for
    nominal statistics, hence the ``numeric`` flag. Coders with no rating are dropped.
    """
    arr = np.asarray(matrix)
    if arr.dtype.kind in "biuf":
        ratings, numeric = arr.astype(float), True
    else:
        raw = np.asarray(matrix, dtype=object)
        if raw.ndim != 2:
            raise ValueError(f"expected a coders × units matrix (2-D), got {raw.ndim}-D")
        missing = pd.isna(raw)
        present = raw[~missing]
        numeric = all(isinstance(v, _NUMBER) for v in present)
        ratings = np.full(raw.shape, np.nan)
        if numeric:
            ratings[~missing] = present.astype(float)
        else:
            labels = np.unique(present.astype(str))
            ratings[~missing] = np.searchsorted(labels, present.astype(str))
    if ratings.ndim != 2:
        raise ValueError(f"expected a coders × units matrix (2-D), got {ratings.ndim}-D")
    return ratings[~np.isnan(ratings).all(axis=1)], numeric


def _pairable(ratings: np.ndarray) -> np.ndarray:
    """Keep the units (columns) rated by at least two coders."""
    return ratings[:, (~np.isnan(ratings)).sum(axis=0) >= 2]


def _has_variation(ratings: np.ndarray) -> bool:
    """True when the present ratings use at least two categories (else kappa/alpha are 0/0)."""
    return np.unique(ratings[~np.isnan(ratings)]).size >= 2


def _category_counts(ratings: np.ndarray) -> np.ndarray:
    """Units × categories table of how many coders put each unit in each category."""
    categories = np.unique(ratings[~np.isnan(ratings)])
    return (ratings.T[:, :, None] == categories[None, None, :]).sum(axis=1)


def percent_agreement(
    matrix: Matrix, *, method: Literal["pairwise", "unanimous"] = "pairwise"
) -> float | None:
    """Observed agreement over the pairable units (rated by at least two coders).

    Args:
        matrix: Coders × units ratings, ``None``/NaN for missing.
        method: ``"pairwise"`` (default) averages, over units, the share of agreeing pairs of
            ratings; it is the observed agreement inside Fleiss' kappa and what irrCAC reports,
            and it does not fall just because more coders were added. ``"unanimous"`` is the
            share of units on which all present ratings agree. Both are equal for two coders.

    Returns:
        Agreement in [0, 1], or ``None`` when no unit was rated by two coders.
    """
    ratings = _pairable(_as_ratings(matrix)[0])
    if ratings.shape[1] == 0:
        return None
    counts = _category_counts(ratings)
    raters = counts.sum(axis=1)
    if method == "pairwise":
        per_unit = (counts * (counts - 1)).sum(axis=1) / (raters * (raters - 1))
    elif method == "unanimous":
        per_unit = counts.max(axis=1) == raters
    else:
        raise ValueError(f"method must be 'pairwise' or 'unanimous', not {method!r}")
    return float(np.mean(per_unit))


def cohen_kappa(
    matrix: Matrix, *, weights: Literal["linear", "quadratic"] | None = None
) -> float | None:
    """Cohen's kappa for exactly two coders over the units both coded (scikit-learn).

    Weighted kappa follows scikit-learn (and R ``irr::kappa2``): the weight scale is the rank of
    each category among those observed, so a category nobody used does not widen distances.

    Args:
        matrix: Two rows of ratings, ``None``/NaN for missing.
        weights: ``None`` (unweighted), ``"linear"`` or ``"quadratic"``; numeric ratings only.

    Returns:
        Kappa, or ``None`` when there are not exactly two coders, no unit coded by both, or no
        variation (every rating the same category: kappa is 0/0).
    """
    ratings, numeric = _as_ratings(matrix)
    if weights is not None and not numeric:
        raise ValueError("weighted kappa needs numeric (ordered) ratings")
    if ratings.shape[0] != 2:
        return None
    both = ratings[:, ~np.isnan(ratings).any(axis=0)]
    if both.shape[1] == 0 or not _has_variation(both):
        return None
    if weights is None:
        return _unweighted_kappa(both)
    return float(cohen_kappa_score(both[0], both[1], weights=weights))


def _unweighted_kappa(both: np.ndarray) -> float:
    """scikit-learn's unweighted ``cohen_kappa_score`` (1 - observed / expected disagreement) on
    two complete rows, without its input checks: the bootstrap calls it thousands of times."""
    n = both.shape[1]
    categories, index = np.unique(both, return_inverse=True)
    k = categories.size
    index = index.reshape(2, n)
    confusion = np.bincount(index[0] * k + index[1], minlength=k * k).reshape(k, k).astype(float)
    expected = np.outer(confusion.sum(axis=1), confusion.sum(axis=0)) / n
    off = ~np.eye(k, dtype=bool)
    return float(1 - confusion[off].sum() / expected[off].sum())


def _rated(ratings: np.ndarray) -> np.ndarray:
    """Keep the units (columns) rated by at least one coder."""
    return ratings[:, (~np.isnan(ratings)).any(axis=0)]


def _equal_raters_table(ratings: np.ndarray, n_categories: int | None) -> np.ndarray | None:
    """Units × categories counts for statsmodels, or None when units have different numbers of
    ratings (then Fleiss' equal-raters formula does not apply)."""
    per_unit = (~np.isnan(ratings)).sum(axis=0)
    if per_unit.size == 0 or per_unit.min() != per_unit.max():
        return None
    # Fleiss' raters are exchangeable per unit, so each unit's ratings are packed into a row.
    by_unit = np.array([unit[~np.isnan(unit)] for unit in ratings.T])
    table, _ = aggregate_raters(by_unit)
    if n_categories is not None:
        table = np.pad(table, ((0, 0), (0, n_categories - table.shape[1])))
    return table


def _agreement_terms(
    matrix: Matrix, n_categories: int | None
) -> tuple[np.ndarray, float, np.ndarray, int] | None:
    """``(rated units, observed agreement, category prevalence, q)`` per Gwet (2014).

    Observed agreement is the mean, over units with at least two ratings, of the share of
    agreeing pairs; the prevalence of category k is the mean over every rated unit of the share
    of its ratings in k. None when no unit has two ratings.
    """
    ratings = _rated(_as_ratings(matrix)[0])
    counts = _category_counts(ratings)
    raters = counts.sum(axis=1)
    pairable = raters >= 2
    if not pairable.any():
        return None
    q = counts.shape[1]
    if n_categories is not None:
        if n_categories < q:
            raise ValueError(f"n_categories={n_categories} but {q} are used")
        q = n_categories
    pairs = (counts * (counts - 1)).sum(axis=1)[pairable] / (raters * (raters - 1))[pairable]
    prevalence = (counts / raters[:, None]).mean(axis=0)
    return ratings, float(pairs.mean()), prevalence, q


def _chance_corrected(observed: float, chance: float) -> float | None:
    return None if chance >= 1 else (observed - chance) / (1 - chance)


def fleiss_kappa(matrix: Matrix) -> float | None:
    """Fleiss' kappa for any number of coders, missing ratings allowed.

    Fleiss (1971) assumes each unit has the same number of ratings, possibly from different
    coders; that case is computed by statsmodels. With missing ratings, Gwet's (2014)
    generalisation (irrCAC's ``fleiss.kappa.raw``) keeps every unit: see the module notes. With
    two coders and no gaps, Fleiss' kappa equals Scott's pi.

    Args:
        matrix: Coders × units ratings, ``None``/NaN for missing.

    Returns:
        Kappa, or ``None`` when no unit has two ratings or the ratings show no variation.
    """
    terms = _agreement_terms(matrix, None)
    if terms is None:
        return None
    ratings, observed, prevalence, _ = terms
    if (prevalence > 0).sum() < 2:
        return None
    table = _equal_raters_table(ratings, None)
    if table is not None:
        return float(_statsmodels_fleiss_kappa(table, method="fleiss"))
    return _chance_corrected(observed, float((prevalence**2).sum()))


def brennan_prediger(matrix: Matrix, *, n_categories: int | None = None) -> float | None:
    """Brennan–Prediger (Randolph's free-marginal) kappa: chance agreement is 1/q.

    Complete designs use statsmodels' ``method="randolph"``; with missing ratings, the observed
    agreement of :func:`fleiss_kappa` (Gwet 2014).

    Args:
        matrix: Coders × units ratings, ``None``/NaN for missing.
        n_categories: q, the number of categories in the coding scheme (2 for present/absent
            codes). Defaults to the number of categories observed.

    Returns:
        The coefficient, or ``None`` when no unit has two ratings or q < 2.
    """
    terms = _agreement_terms(matrix, n_categories)
    if terms is None or terms[3] < 2:
        return None
    ratings, observed, _, q = terms
    table = _equal_raters_table(ratings, q)
    if table is not None:
        return float(_statsmodels_fleiss_kappa(table, method="randolph"))
    return _chance_corrected(observed, 1 / q)


def gwet_ac1(matrix: Matrix, *, n_categories: int | None = None) -> float | None:
    """Gwet's AC1 (Gwet 2008): chance agreement is sum_k pi_k (1 - pi_k) / (q - 1).

    Unlike kappa, AC1 stays stable when one category is rare, as most codes are in a corpus of
    posts (the "kappa paradox": high agreement, low kappa). Report it beside kappa, not
    instead of it.

    Args:
        matrix: Coders × units ratings, ``None``/NaN for missing.
        n_categories: q, the number of categories in the coding scheme. Defaults to the number
            observed, so ratings with no variation give ``None`` like the other coefficients.

    Returns:
        AC1, or ``None`` when no unit has two ratings or q < 2.
    """
    terms = _agreement_terms(matrix, n_categories)
    if terms is None or terms[3] < 2:
        return None
    _, observed, prevalence, q = terms
    return _chance_corrected(observed, float((prevalence * (1 - prevalence)).sum() / (q - 1)))


def krippendorff_alpha(matrix: Matrix, level: Level = "nominal") -> float | None:
    """Krippendorff's alpha via the ``krippendorff`` package; missing ratings allowed.

    Args:
        matrix: Coders × units ratings, ``None``/NaN for missing. Labels need ``"nominal"``.
        level: ``"nominal"``, ``"ordinal"``, ``"interval"`` or ``"ratio"`` (Krippendorff's
            metrics; for ordinal, the ranks of the observed values).

    Returns:
        Alpha, or ``None`` when no unit has two ratings or the pairable ratings show no
        variation (expected disagreement is 0, alpha is 0/0).
    """
    ratings, numeric = _as_ratings(matrix)
    if level != "nominal" and not numeric:
        raise ValueError(f"level={level!r} needs numeric ratings; labels are nominal only")
    # Single-rating units are not pairable; dropping them first keeps them out of the checks.
    ratings = _pairable(ratings)
    if ratings.shape[1] == 0 or not _has_variation(ratings):
        return None
    return float(krippendorff.alpha(reliability_data=ratings, level_of_measurement=level))


def _canonical_unit_order(ratings: np.ndarray) -> np.ndarray:
    """Sort units by their ratings so a seeded bootstrap does not depend on input order."""
    keys = np.where(np.isnan(ratings), np.inf, ratings)
    return ratings[:, np.lexsort(keys[::-1])]


def bootstrap_ci(
    matrix: Matrix,
    statistic: Statistic,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    min_valid_share: float = MIN_VALID_SHARE,
) -> tuple[float, float] | None:
    """Percentile bootstrap interval, resampling units (columns) with replacement.

    Units are the sampled entities (posts), so whole columns are resampled, from every rated
    unit (a unit with one rating informs Fleiss' and AC1's prevalence; the other statistics
    skip it); every statistic gets the same kind of interval. Resamples where the statistic
    is undefined (e.g. no variation) are skipped. Krippendorff's own bootstrap (Hayes &
    Krippendorff 2007) is not offered: the ``krippendorff`` package does not implement it, and
    it resamples pairs of values as if pairs from one unit were independent.

    Args:
        matrix: Coders × units ratings, ``None``/NaN for missing.
        statistic: A function of a matrix, e.g. :func:`krippendorff_alpha`. It receives float
            ratings (labels already coded as numbers).
        n_boot: Number of resamples.
        seed: Seed for ``numpy.random.default_rng``; the same seed gives the same interval.
        level: Coverage, e.g. 0.95.
        min_valid_share: Fewest defined resamples, as a share of ``n_boot``, to report.

    Returns:
        ``(low, high)``, or ``None`` when the statistic is undefined on the data or fewer than
        ``min_valid_share * n_boot`` resamples gave a defined value.
    """
    if statistic(matrix) is None:
        return None
    ratings = _canonical_unit_order(_rated(_as_ratings(matrix)[0]))
    n_units = ratings.shape[1]
    draws = np.random.default_rng(seed).integers(0, n_units, size=(n_boot, n_units))
    values = [statistic(ratings[:, idx]) for idx in draws]
    valid = [v for v in values if v is not None and math.isfinite(v)]
    if not valid or len(valid) < min_valid_share * n_boot:
        return None
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(valid, [tail, 100 - tail])
    return float(low), float(high)


def _json_number(value: float | None) -> float | None:
    """Round to 6 decimals as a plain float; undefined (None, NaN, inf) becomes None."""
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), 6)


def agreement_summary(matrix: Matrix, *, n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    """All agreement statistics with 95% bootstrap intervals, JSON-ready.

    The intervals share one seed, so every statistic is resampled over the same units.
    Krippendorff's alpha is nominal (ethnoflow codes are present/absent).

    Args:
        matrix: Coders × units ratings, ``None``/NaN for missing.
        n_boot: Bootstrap resamples per statistic.
        seed: Bootstrap seed.

    Returns:
        ``{"n", "coders", "percent_agreement", "cohen_kappa", "fleiss_kappa", "gwet_ac1",
        "krippendorff_alpha", "ci95": {statistic: [low, high] | None}}``; ``n`` counts units
        rated by at least two coders, ``coders`` counts coders with at least one rating,
        undefined values are ``None`` and floats are rounded to 6 decimals.
    """
    ratings, _ = _as_ratings(matrix)
    statistics: dict[str, Statistic] = {
        "percent_agreement": percent_agreement,
        "cohen_kappa": cohen_kappa,
        "fleiss_kappa": fleiss_kappa,
        "gwet_ac1": gwet_ac1,
        "krippendorff_alpha": krippendorff_alpha,
    }
    summary: dict[str, Any] = {
        "n": int(_pairable(ratings).shape[1]),
        "coders": int(ratings.shape[0]),
    }
    ci95: dict[str, list[float | None] | None] = {}
    for name, statistic in statistics.items():
        summary[name] = _json_number(statistic(ratings))
        interval = bootstrap_ci(ratings, statistic, n_boot=n_boot, seed=seed, level=0.95)
        ci95[name] = None if interval is None else [_json_number(v) for v in interval]
    summary["ci95"] = ci95
    return summary


def _binary_labels(values: Sequence[Any] | np.ndarray) -> np.ndarray:
    """Object array of 0/1 labels (None/NaN kept as missing); anything else is an error."""
    arr = np.asarray(values, dtype=object).ravel()
    present = arr[~pd.isna(arr)]
    if not all(isinstance(v, _NUMBER) and v in (0, 1) for v in present):
        raise ValueError("classification_metrics expects binary codes 0/1 (or None)")
    return arr


def classification_metrics(
    y_true: Sequence[Any] | np.ndarray, y_pred: Sequence[Any] | np.ndarray
) -> dict[str, Any]:
    """Machine against human on one binary code (1 = present), via scikit-learn.

    Pairs where either side is ``None``/NaN are dropped. Undefined ratios are ``None``, never a
    made-up 0 or 1: precision with no predicted positives, recall with no true positives, F1
    with no positives on either side (scikit-learn's ``zero_division=nan``), and kappa with no
    variation (as in :func:`cohen_kappa`).

    Args:
        y_true: Human codes, 0/1.
        y_pred: Machine codes, 0/1, aligned with ``y_true``.

    Returns:
        ``{"n", "kappa", "precision", "recall", "f1", "tp", "fp", "fn", "tn"}`` with plain
        Python numbers (JSON-ready).
    """
    truth, pred = _binary_labels(y_true), _binary_labels(y_pred)
    if truth.shape != pred.shape:
        raise ValueError(f"y_true has {truth.size} labels but y_pred has {pred.size}")
    keep = ~(pd.isna(truth) | pd.isna(pred))
    truth, pred = truth[keep].astype(int), pred[keep].astype(int)
    result: dict[str, Any] = {"n": int(truth.size), "kappa": None, "precision": None}
    result |= {"recall": None, "f1": None, "tp": 0, "fp": 0, "fn": 0, "tn": 0}
    if truth.size == 0:
        return result
    tn, fp, fn, tp = confusion_matrix(truth, pred, labels=[0, 1]).ravel()
    precision, recall, f1, _ = precision_recall_fscore_support(
        truth, pred, labels=[0, 1], pos_label=1, average="binary", zero_division=np.nan
    )
    result["kappa"] = cohen_kappa(np.vstack([truth, pred]))
    result |= {"precision": _plain(precision), "recall": _plain(recall), "f1": _plain(f1)}
    result |= {"tp": int(tp), "fp": int(fp), "fn": int(fn), "tn": int(tn)}
    return result


def _plain(value: float) -> float | None:
    """A plain float, or None where scikit-learn returned NaN for 0/0."""
    return None if math.isnan(value) else float(value)
