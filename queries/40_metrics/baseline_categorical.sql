-- Table 1, categorical covariates: patients per stratum and level of each baseline covariate of
-- the study, with missing values as the level 'missing'. A null stratum_key is all patients.
select
    s.stratum_key,
    v.covariate,
    v.level,
    count(*) as n_patients
from strata as s
inner join stg_patient_covariates as v using (patient_key)
where list_contains(getvariable('baseline_covariates'), v.covariate)
group by grouping sets ((s.stratum_key, v.covariate, v.level), (v.covariate, v.level))
order by v.covariate, v.level, s.stratum_key nulls last
