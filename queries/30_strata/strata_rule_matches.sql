-- Every stratum rule each eligible patient matches, with the date the match began:
-- a later-therapy rule matches from the first course of one of its classes started on or after
-- the index date and on or before the cutoff; a baseline rule matches from the index date.
with later_therapy_classes as (
    select rule_order, unnest(later_agent_classes) as agent_class
    from study_strata
),

later_courses as (
    select
        e.patient_key,
        c.rule_order,
        t.start_date
    from stg_treatments as t
    inner join later_therapy_classes as c using (agent_class)
    inner join cohort_eligibility as e
        on e.patient_key = t.patient_key
        and t.start_date >= e.index_date
    where e.is_eligible
      and t.start_date <= getvariable('cutoff_date')
),

later_therapy_matches as (
    select
        patient_key,
        rule_order,
        min(start_date) as match_start_date
    from later_courses
    group by patient_key, rule_order
),

baseline_matches as (
    select
        e.patient_key,
        r.rule_order,
        e.index_date as match_start_date
    from cohort_eligibility as e
    inner join stg_patient_covariates as v on v.patient_key = e.patient_key
    inner join study_strata as r
        on r.baseline_column = v.covariate
        and list_contains(r.baseline_values, v.level)
    where e.is_eligible
)

select patient_key, rule_order, match_start_date, true as is_later_therapy
from later_therapy_matches
union all
select patient_key, rule_order, match_start_date, false as is_later_therapy
from baseline_matches
