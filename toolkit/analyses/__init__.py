"""The study analyses: the survival estimators applied to a study's strata and cohort.

This stage sits between the estimators (:mod:`toolkit.survival`, which know nothing of
studies) and the report context. It may import the survival estimators, the cohort and the
study definition.

- :mod:`~toolkit.analyses.strata` — :func:`stratum_cox` (the strata by Cox, reference: the
  default stratum), :func:`study_covariates`, :func:`reference_stratum`
- :mod:`~toolkit.analyses.time_varying` — :func:`time_varying_cox` (strata as a time-varying
  covariate)
- :mod:`~toolkit.analyses.landmark` — :func:`landmark_analysis`, :func:`landmark_analyses`
- :mod:`~toolkit.analyses.simon_makuch` — :func:`simon_makuch` (the strata's extended
  Kaplan–Meier curves)
- :mod:`~toolkit.analyses.immortal_time` — :func:`assess_immortal_time`
- :mod:`~toolkit.analyses.comparisons` — :func:`comparisons`: the naive and the
  immortal-time-aware comparisons the report shows
"""
