-- Treatment courses whose already-reported start or end date moved between the previous
-- cutoff's submissions and this cutoff's, with the old and new value. Empty when there is no
-- previous cutoff. Only the submissions that differ between the two cutoffs are compared (see
-- patient_changes).
-- materialized: view
with new_submissions as (
    select submission_id
    from stg_submissions_in_force
    where submission_id not in (select submission_id from stg_previous_submissions)
),

current_courses as (
    select
        t.patient_key,
        p.site_id,
        p.patient_id,
        t.treatment_id,
        t.start_date,
        t.end_date,
        t.submission_id
    from new_submissions as n
    inner join stg_treatments as t on n.submission_id = t.submission_id
    inner join stg_patients as p on t.patient_key = p.patient_key
),

previous_courses as (
    select * from stg_previous_treatments
    where submission_id not in (select submission_id from stg_submissions_in_force)
),

paired as (
    select
        c.site_id,
        c.patient_id,
        c.treatment_id,
        p.start_date as old_start_date,
        c.start_date as new_start_date,
        p.end_date as old_end_date,
        c.end_date as new_end_date,
        p.submission_id as old_submission_id,
        c.submission_id as new_submission_id
    from current_courses as c
    inner join previous_courses as p
        on c.patient_key = p.patient_key and c.treatment_id = p.treatment_id
)

select site_id, patient_id, treatment_id, 'start_date' as field_name,
    cast(old_start_date as varchar) as old_value, cast(new_start_date as varchar) as new_value,
    old_submission_id, new_submission_id
from paired where old_start_date is distinct from new_start_date

union all

select site_id, patient_id, treatment_id, 'end_date', cast(old_end_date as varchar),
    cast(new_end_date as varchar), old_submission_id, new_submission_id
from paired where old_end_date is distinct from new_end_date
