-- Every stratum rule each eligible patient matches, with the date the match began:
-- a later-therapy rule matches from the first course of one of its classes started on or after
-- the index date and on or before the cutoff; a baseline rule matches from the index date.
with later_courses as (
    select
        e.patient_key,
        t.agent_class,
        t.start_date
    from cohort_eligibility as e
    inner join stg_treatments as t
        on t.patient_key = e.patient_key
        and t.start_date >= e.index_date
        and t.start_date <= getvariable('cutoff_date')
    where e.is_eligible
),

later_therapy_matches as (
    select
        c.patient_key,
        r.rule_order,
        min(c.start_date) as match_start_date
    from later_courses as c
    inner join study_strata as r on list_contains(r.later_agent_classes, c.agent_class)
    group by c.patient_key, r.rule_order
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
