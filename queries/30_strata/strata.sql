-- Each eligible patient's stratum: the first rule (in rule order) matched by a course of one of
-- the rule's agent classes started on or after the index date and on or before the cutoff.
-- The rule with no classes is the default. Rules come from the study definition (study_strata).
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

rule_matches as (
    select
        c.patient_key,
        r.rule_order,
        min(c.start_date) as stratum_start_date
    from later_courses as c
    inner join study_strata as r on list_contains(r.agent_classes, c.agent_class)
    group by c.patient_key, r.rule_order
),

first_match as (
    select patient_key, min(rule_order) as rule_order
    from rule_matches
    group by patient_key
),

default_rule as (
    select rule_order from study_strata where len(agent_classes) = 0
)

select
    e.patient_key,
    e.index_date,
    r.stratum_key,
    r.stratum_label,
    r.rule_order as stratum_order,
    m.stratum_start_date
from cohort_eligibility as e
left join first_match as f using (patient_key)
inner join study_strata as r
    on r.rule_order = coalesce(f.rule_order, (select rule_order from default_rule))
left join rule_matches as m
    on m.patient_key = e.patient_key and m.rule_order = f.rule_order
where e.is_eligible
