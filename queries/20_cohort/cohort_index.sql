-- Per patient: the index course (first course of an index agent class with at least the minimum
-- number of doses, started on or before the cutoff) and whether an excluding therapy started
-- before it. One pass over the courses: when an excluding course started before the index date,
-- the first of them is the patient's first excluding course of all.
-- materialized: view
with first_course_dates as (
    select
        patient_key,
        min(start_date) filter (
            where list_contains(getvariable('index_agent_classes'), agent_class)
              and start_date <= getvariable('cutoff_date')
        ) as first_any_start_date,
        min(start_date) filter (
            where list_contains(getvariable('index_agent_classes'), agent_class)
              and start_date <= getvariable('cutoff_date')
              and coalesce(doses, 0) >= getvariable('index_min_doses')
        ) as index_date,
        min(start_date) filter (
            where list_contains(getvariable('excluding_prior_classes'), agent_class)
        ) as first_excluding_any_start_date
    from stg_treatments
    where list_contains(getvariable('index_agent_classes'), agent_class)
       or list_contains(getvariable('excluding_prior_classes'), agent_class)
    group by patient_key
)

select
    p.patient_key,
    c.first_any_start_date is not null as has_index_class_course,
    c.index_date is not null as has_dosed_index_course,
    c.index_date,
    case
        when c.first_excluding_any_start_date < c.index_date
            then c.first_excluding_any_start_date
    end as first_excluding_start_date,
    first_excluding_start_date is not null as has_prior_excluding_therapy
from stg_patients as p
left join first_course_dates as c using (patient_key)
