-- Per patient: the index course (first course of an index agent class with at least the minimum
-- number of doses, started on or before the cutoff) and whether an excluding therapy started
-- before it.
with index_class_courses as (
    select
        patient_key,
        min(start_date) as first_any_start_date,
        min(start_date) filter (
            where coalesce(doses, 0) >= getvariable('index_min_doses')
        ) as index_date
    from stg_treatments
    where list_contains(getvariable('index_agent_classes'), agent_class)
      and start_date <= getvariable('cutoff_date')
    group by patient_key
),

prior_excluding_courses as (
    select
        c.patient_key,
        min(t.start_date) as first_excluding_start_date
    from index_class_courses as c
    inner join stg_treatments as t
        on t.patient_key = c.patient_key
        and t.start_date < c.index_date
        and list_contains(getvariable('excluding_prior_classes'), t.agent_class)
    group by c.patient_key
)

select
    p.patient_key,
    c.first_any_start_date is not null as has_index_class_course,
    c.index_date is not null as has_dosed_index_course,
    c.index_date,
    x.first_excluding_start_date,
    x.first_excluding_start_date is not null as has_prior_excluding_therapy
from stg_patients as p
left join index_class_courses as c using (patient_key)
left join prior_excluding_courses as x using (patient_key)
