-- Table 1, age at the index date (calendar year of the index date minus birth year): median and
-- quartiles (type 7 interpolation, as R's default) per stratum; a null stratum_key is all patients.
select
    stratum_key,
    'age' as covariate,
    count(age_years) as n_patients,
    count(*) - count(age_years) as n_missing,
    quantile_cont(age_years, 0.5) as median,
    quantile_cont(age_years, 0.25) as q1,
    quantile_cont(age_years, 0.75) as q3,
    min(age_years) as minimum,
    max(age_years) as maximum
from adtte
where list_contains(getvariable('baseline_covariates'), 'age')
group by grouping sets ((stratum_key), ())
order by stratum_key nulls last
