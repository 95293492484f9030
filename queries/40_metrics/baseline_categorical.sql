-- Table 1, categorical covariates: patients per stratum and level of each baseline covariate of
-- the study, with missing values as the level 'missing'. A null stratum_key is all patients.
-- Patients are counted per combination of levels first, so only those few rows are unpivoted
-- (one select per covariate: DuckDB's UNPIVOT does not carry to other engines).
with level_combinations as (
    select
        s.stratum_key,
        b.sex,
        b.primary_site,
        b.m_stage,
        b.ecog,
        b.ldh_elevated,
        b.brain_metastases,
        b.braf_status,
        count(*) as n_patients
    from strata as s
    inner join stg_patient_baseline as b using (patient_key)
    group by
        s.stratum_key,
        b.sex,
        b.primary_site,
        b.m_stage,
        b.ecog,
        b.ldh_elevated,
        b.brain_metastases,
        b.braf_status
),

stratum_levels as (
    select stratum_key, 'sex' as covariate, sex as level, n_patients from level_combinations
    union all
    select stratum_key, 'primary_site', primary_site, n_patients from level_combinations
    union all
    select stratum_key, 'm_stage', m_stage, n_patients from level_combinations
    union all
    select stratum_key, 'ecog', ecog, n_patients from level_combinations
    union all
    select stratum_key, 'ldh_elevated', ldh_elevated, n_patients from level_combinations
    union all
    select stratum_key, 'brain_metastases', brain_metastases, n_patients from level_combinations
    union all
    select stratum_key, 'braf_status', braf_status, n_patients from level_combinations
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
