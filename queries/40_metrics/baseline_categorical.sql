-- Table 1, categorical covariates: patients per stratum and level of each baseline covariate of
-- the study, with missing values as the level 'missing'. A null stratum_key is all patients.
-- Patients are counted per combination of levels first, so only those few rows are unpivoted.
with level_combinations as (
    select
        s.stratum_key,
        b.* exclude (patient_key),
        count(*) as n_patients
    from strata as s
    inner join stg_patient_baseline as b using (patient_key)
    group by all
),

stratum_levels as (
    unpivot level_combinations
    on columns(* exclude (stratum_key, n_patients))
    into name covariate value level
)

select
    stratum_key,
    covariate,
    level,
    cast(sum(n_patients) as bigint) as n_patients
from stratum_levels
where list_contains(getvariable('baseline_covariates'), covariate)
group by grouping sets ((stratum_key, covariate, level), (covariate, level))
order by covariate, level, stratum_key nulls last
